package detector

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/atod-project/atod/enrich"
)

func session(id string) evOpt { return func(e *enrich.Event) { e.SessionID = id } }

// An account keeps no session unused for longer than any journey takes,
// nor failures older than every window that counts them: no rule can use
// them, and they are personal data.
func TestStaleSessionsAndFailuresAreForgotten(t *testing.T) {
	cfg := DefaultConfig()
	memory := cfg.sessionMemory()
	if memory < 20*time.Hour || memory > 23*time.Hour {
		t.Fatalf("sessionMemory = %s: half the Earth at 1,000 km/h, an hour, the lateness", memory)
	}
	later := memory + 3*time.Minute // after s2's memory too
	store := NewMemoryStore(cfg.UserRetention, cfg.AddrRetention)
	runStore(t, cfg, store, []enrich.Event{
		ev(at(0), session("s1")),
		ev(at(time.Minute), failed(), reason("bad_password")),
		ev(at(2*time.Minute), session("s2")),
		ev(at(later), session("s3")),
	})
	us, _, err := store.Load(context.Background(), []string{"anna@example.org"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	u := us[0]
	if len(u.Failures) != 0 {
		t.Errorf("failures kept: %+v", u.Failures)
	}
	if len(u.Sessions) != 1 || u.Sessions[0].Hash != sessionHash("s3") {
		t.Errorf("sessions kept: %+v, want s3 only", u.Sessions)
	}
}

// Forgetting changes no alert: a session used from the other side of the
// world within its memory is hijacked; after it, it is not, whether
// remembered or not.
func TestSessionHijackAroundItsMemory(t *testing.T) {
	cfg := DefaultConfig()
	for _, tc := range []struct {
		gap  time.Duration
		want bool
	}{
		{30 * time.Minute, true},
		{3 * time.Hour, true}, // a flight to Lagos takes about 6
		{7 * time.Hour, false},
		{cfg.sessionMemory() + time.Hour, false},
	} {
		got := run(t, cfg, []enrich.Event{
			ev(at(0), session("s1")),
			ev(at(tc.gap), kind("mailbox_access"), session("s1"), from("105.112.0.5"), where(lagos)),
		})
		if hijacked(got) != tc.want {
			t.Errorf("session reused %s later from Lagos: alerts %v, want hijack %v", tc.gap, rulesOf(got), tc.want)
		}
	}
	// The antipode is the longest journey there is: about 21 hours at
	// 1,000 km/h with the hour of overhead. The session must still be
	// remembered until then.
	madrid := loc{"ES", "Madrid", 40.4, -3.7, 0, 3352, false}
	antipode := loc{"NZ", "Weber", -40.4, 176.3, 0, 9500, false}
	gap := 20*time.Hour + 50*time.Minute
	got := run(t, cfg, []enrich.Event{
		ev(at(0), session("s1"), from("88.0.0.1"), where(madrid)),
		ev(at(gap), kind("mailbox_access"), session("s1"), from("121.72.0.1"), where(antipode)),
	})
	if !hijacked(got) {
		t.Errorf("session reused at the antipode %s later: alerts %v, want a hijack", gap, rulesOf(got))
	}
}

func hijacked(alerts []Alert) bool {
	return slices.ContainsFunc(alerts, func(a Alert) bool { return a.Rule == RuleSessionHijack })
}
