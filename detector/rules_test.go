package detector

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/enrich"
)

func TestRules(t *testing.T) {
	failuresFrom := func(n int, ip string, l loc, start time.Duration) []enrich.Event {
		var evs []enrich.Event
		for i := range n {
			evs = append(evs, ev(at(start+time.Duration(i)*20*time.Second), failed(), reason("bad_password"), from(ip), where(l)))
		}
		return evs
	}
	stuffing := func(accounts int, unknownEvery int, ip string) []enrich.Event {
		var evs []enrich.Event
		for i := range accounts {
			r := "bad_password"
			if unknownEvery > 0 && i%unknownEvery == 0 {
				r = "unknown_user"
			}
			evs = append(evs, ev(at(time.Duration(i)*10*time.Second), failed(), reason(r), from(ip), where(lagos),
				user(fmt.Sprintf("u%03d@example.org", i))))
		}
		return evs
	}
	// home gives anna an established account: known network, habits past
	// the learning period, last location in Berlin.
	var home []enrich.Event
	for d := 6; d >= 1; d-- {
		home = append(home, ev(at(-time.Duration(d)*24*time.Hour)))
	}
	tests := []struct {
		name   string
		events []enrich.Event
		want   []string
	}{
		{"impossible travel", append(slices.Clone(home), ev(at(-time.Hour)), ev(at(0), from("105.112.0.5"), where(lagos))),
			[]string{"impossible_travel/alert", "new_location/alert"}},
		// A first sign-in from another continent is worth a look, but it is
		// no impossible travel and, without more, no revocation.
		{"plausible flight", append(slices.Clone(home), ev(at(-10*time.Hour)), ev(at(0), from("73.0.0.5"), where(newYork))),
			[]string{"new_location/alert"}},
		{"own networks on two continents", append(withDevice(home, "laptop"),
			ev(at(-12*time.Hour), from("73.0.0.5"), where(newYork), device("laptop")),
			ev(at(0), device("laptop")), ev(at(30*time.Minute), from("73.0.0.9"), where(newYork), device("laptop"))), nil},
		{"short hop Berlin to Munich", append(slices.Clone(home), ev(at(-time.Hour)), ev(at(0), from("62.216.0.5"), where(munich))), nil},
		{"wide accuracy radii are not impossible", []enrich.Event{ev(at(0), from("176.0.0.1"), where(deMob)),
			ev(at(time.Minute), from("84.128.0.10"))}, nil},
		{"trusted network is no travel", append(slices.Clone(home), ev(at(-time.Hour)), ev(at(0), from("192.80.0.5"), where(vpnUS)),
			ev(at(10*time.Minute))), nil},
		{"two mobile carriers on two continents", []enrich.Event{ev(at(0), from("176.0.0.1"), where(deMob)),
			ev(at(time.Minute), from("172.56.0.1"), where(usMob))}, []string{"impossible_travel/alert"}},
		{"stuffing then a hit is revoked", append(stuffing(12, 3, "105.112.9.9"),
			ev(at(5*time.Minute), from("105.112.9.9"), where(lagos), user("u005@example.org"))),
			[]string{"credential_stuffing/alert", "compromise_after_attack/revoke_sessions"}},
		{"spraying valid accounts", stuffing(12, 0, "105.112.9.9"), []string{"password_spray/alert"}},
		{"below the account threshold", stuffing(5, 2, "105.112.9.9"), nil},
		{"brute force then success", append(append(slices.Clone(home), failuresFrom(12, "95.24.0.7", lagos, 0)...),
			ev(at(5*time.Minute), from("95.24.0.7"), where(lagos))),
			[]string{"brute_force/alert", "compromise_after_attack/revoke_sessions", "new_location/alert"}},
		{"forgetful user at home", append(append(slices.Clone(home), failuresFrom(12, "84.128.0.99", berlin, 0)...),
			ev(at(5*time.Minute), from("84.128.0.99"))), nil},
		{"mfa fatigue from a new network", append(slices.Clone(home),
			ev(at(0), failed(), reason("mfa_denied"), from("105.112.0.5"), where(lagos)),
			ev(at(time.Minute), failed(), reason("mfa_denied"), from("105.112.0.5"), where(lagos)),
			ev(at(2*time.Minute), failed(), reason("mfa_timeout"), from("105.112.0.5"), where(lagos)),
			ev(at(3*time.Minute), from("105.112.0.5"), where(lagos))),
			[]string{"mfa_fatigue/revoke_sessions", "new_location/alert"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rulesOf(run(t, DefaultConfig(), tt.events))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("alerts = %v, want %v", got, tt.want)
			}
		})
	}
}

func withDevice(evs []enrich.Event, d string) []enrich.Event {
	out := slices.Clone(evs)
	for i := range out {
		out[i].DeviceID = d
	}
	return out
}

func TestStuffingAlertNamesAccounts(t *testing.T) {
	var evs []enrich.Event
	for i := range 30 {
		evs = append(evs, ev(at(time.Duration(i)*time.Second), failed(), reason("unknown_user"), from("105.112.9.9"),
			where(lagos), user(fmt.Sprintf("u%03d@example.org", i))))
	}
	alerts := run(t, DefaultConfig(), evs)
	if len(alerts) != 1 {
		t.Fatalf("got %d alerts, want one per incident: %v", len(alerts), rulesOf(alerts))
	}
	a := alerts[0]
	if a.User != "" || a.IP != "105.112.9.9" || len(a.Users) != 8 || a.Users[0] != "u000@example.org" {
		t.Errorf("alert = user %q ip %q users %v", a.User, a.IP, a.Users)
	}
	if a.Geo == nil || a.Geo.Country != "NG" || a.Severity != SeverityHigh || len(a.Reasons) == 0 || len(a.Evidence) != 8 {
		t.Errorf("alert = %+v", a)
	}
}

func TestNeverRevoke(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Policy.NeverRevoke = []string{" Anna@Example.org"}
	var evs []enrich.Event
	for i := range 4 {
		evs = append(evs, ev(at(time.Duration(i)*time.Second), failed(), reason("mfa_denied"), from("105.112.0.5"), where(lagos)))
	}
	evs = append(evs, ev(at(time.Minute), from("105.112.0.5"), where(lagos)))
	got := run(t, cfg, evs)
	if len(got) != 1 || got[0].Action != ActionAlert || got[0].Severity != SeverityCritical {
		t.Fatalf("got %+v, want one critical alert without revocation", got)
	}
}

func TestIncidentGroupingAndGap(t *testing.T) {
	cfg := DefaultConfig()
	var evs []enrich.Event
	for _, start := range []time.Duration{0, 20 * time.Minute, 3 * time.Hour} {
		for i := range 10 {
			evs = append(evs, ev(at(start+time.Duration(i)*time.Second), failed(), reason("bad_password"),
				from("95.24.0.7"), where(lagos)))
		}
	}
	got := run(t, cfg, evs)
	if len(got) != 2 || got[0].ID == got[1].ID {
		t.Fatalf("want two brute-force incidents with distinct ids, got %v", rulesOf(got))
	}
}

func TestStateExpires(t *testing.T) {
	cfg := DefaultConfig()
	cfg.UserRetention = 48 * time.Hour
	// The last Berlin sign-in is older than the retention, so a sign-in from
	// Lagos has nothing to be compared with.
	evs := []enrich.Event{ev(at(0)), ev(at(72*time.Hour), from("105.112.0.5"), where(lagos))}
	if got := run(t, cfg, evs); len(got) != 0 {
		t.Fatalf("got %v after retention", rulesOf(got))
	}
	store := NewMemoryStore(time.Hour, time.Hour)
	runStore(t, cfg, store, []enrich.Event{ev(at(0)), ev(at(5*time.Hour), user("bob@example.org"), from("62.216.0.1"))})
	// bob and the organisation's pseudo-account remain.
	if u, a := store.Len(); u != 2 || a != 1 {
		t.Errorf("memory store holds %d users and %d addresses after sweep, want 2 and 1", u, a)
	}
}

// Out-of-order arrival within the lateness gives the same alerts, ids
// included, as sorted input.
func TestOutOfOrderWithinLateness(t *testing.T) {
	var evs []enrich.Event
	evs = append(evs, ev(at(-time.Hour)))
	for i := range 40 {
		evs = append(evs, ev(at(time.Duration(i)*5*time.Second), failed(), reason("bad_password"),
			from("105.112.9.9"), where(lagos), user(fmt.Sprintf("u%02d@example.org", i%20))))
	}
	evs = append(evs, ev(at(4*time.Minute), from("105.112.9.9"), where(lagos), user("u03@example.org")),
		ev(at(4*time.Minute+time.Second), from("105.112.0.1"), where(lagos)))
	want := run(t, DefaultConfig(), evs)
	if len(want) < 3 {
		t.Fatalf("sorted input gave only %v", rulesOf(want))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		// Each event arrives up to 50s after its event time: less than the
		// lateness of one minute.
		arrival := make(map[string]time.Time, len(evs))
		for _, e := range evs {
			arrival[e.ID] = e.Time.Add(time.Duration(rng.IntN(50)) * time.Second)
		}
		shuffled := slices.Clone(evs)
		slices.SortStableFunc(shuffled, func(a, b enrich.Event) int { return arrival[a.ID].Compare(arrival[b.ID]) })
		if slices.EqualFunc(shuffled, evs, func(a, b enrich.Event) bool { return a.ID == b.ID }) {
			t.Fatal("shuffle left the input sorted")
		}
		if got := run(t, DefaultConfig(), shuffled); !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffled input gave\n%+v\nsorted\n%+v", got, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Lateness = -time.Second
	cfg.Policy.RevokeScore = 10
	cfg.AddrAttack.MinFailShare = 2
	err := cfg.Validate()
	for _, key := range []string{"detector.lateness", "detector.policy.revoke_score", "detector.address_attack.min_fail_share"} {
		if err == nil || !contains(err.Error(), key) {
			t.Errorf("Validate() = %v, want it to name %s", err, key)
		}
	}
	def := DefaultConfig()
	if err := def.Validate(); err != nil {
		t.Errorf("default config invalid: %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestSequencerCountsLateEvents(t *testing.T) {
	s := NewSequencer(time.Minute)
	var out []enrich.Event
	out = s.Push(ev(at(0)), out)
	out = s.Push(ev(at(2*time.Minute)), out)
	if len(out) != 1 || s.Pending() != 1 {
		t.Fatalf("released %d, pending %d; want 1 and 1", len(out), s.Pending())
	}
	out = s.Push(ev(at(30*time.Second)), out) // within the lateness: released in order
	out = s.Push(ev(at(-time.Second)), out)   // older than released events: late
	if s.Late() != 1 || len(out) != 3 || !out[2].Time.Equal(t0.Add(-time.Second)) {
		t.Fatalf("late = %d, out = %d", s.Late(), len(out))
	}
	out = s.Flush(out)
	if len(out) != 4 || !out[3].Time.Equal(t0.Add(2*time.Minute)) || s.Pending() != 0 {
		t.Fatalf("flush gave %d events", len(out))
	}
}

func TestDistributedSpray(t *testing.T) {
	spray := func(why string) []enrich.Event {
		var evs []enrich.Event
		for i := range 24 {
			ip := fmt.Sprintf("78.46.%d.9", i%6) // six addresses, four accounts each
			evs = append(evs, ev(at(time.Duration(i)*7*time.Minute), failed(), reason(why), from(ip),
				where(munich), user(fmt.Sprintf("u%02d@example.org", i)), kind("login")))
		}
		return evs
	}
	got := run(t, DefaultConfig(), spray("unknown_user"))
	if len(got) != 1 || got[0].Rule != RulePasswordSpray || got[0].User != "" || got[0].IP != "" || len(got[0].Users) != 20 {
		t.Fatalf("got %v, want one organisation-wide password_spray alert", rulesOf(got))
	}
	// New colleagues failing their first sign-ins from home are not a spray.
	if got := run(t, DefaultConfig(), spray("bad_password")); len(got) != 0 {
		t.Errorf("accounts in their learning period raised %v", rulesOf(got))
	}
}

// clientHash values are stored (Redis state): they must stay 64-bit FNV-1a
// of kind, NUL and the string.
func TestClientHashIsFNV(t *testing.T) {
	for _, c := range []struct{ kind, s string }{{"d", "d-5dd9e3d4c204"}, {"a", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/129.0"}, {"s", ""}, {"", "é\x00x"}} {
		h := fnv.New64a()
		h.Write([]byte(c.kind))
		h.Write([]byte{0})
		h.Write([]byte(c.s))
		if got, want := clientHash(c.kind, c.s), h.Sum64(); got != want {
			t.Errorf("clientHash(%q, %q) = %#x, want %#x", c.kind, c.s, got, want)
		}
	}
}

// agentHashes answers what clientHash does, for agents that share its
// slots, come back, or are equal without being the same string.
func TestAgentHashesAnswerClientHash(t *testing.T) {
	var c agentHashes
	agents := make([]string, 0, 2000)
	for i := range 1000 {
		agents = append(agents, fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Client/%d", i), "x"+strings.Repeat("é", i%40))
	}
	for round := range 3 {
		for _, ua := range agents {
			if round == 2 {
				ua = strings.Clone(ua) // equal bytes, another pointer
			}
			if got, want := c.of(ua), clientHash("a", ua); got != want {
				t.Fatalf("round %d: of(%q) = %#x, want %#x", round, ua, got, want)
			}
		}
	}
}
