package detector

import (
	"testing"
	"time"

	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
)

// Edges of the rules' geometry, session ids and windows.

// Impossible travel edges: great-circle distance across the antimeridian
// (Suva to Apia is about 1,150 km, not 38,000), sign-ins in the same
// second, a city-level place with a 1000 km radius next to a 520 km hop,
// and McMurdo to the South Pole (meridians converge): an alert only where
// no flight could make it.
func TestImpossibleTravelGeometry(t *testing.T) {
	suva := loc{"FJ", "Suva", -18.14, 178.44, 25, 38442, false}
	apia := loc{"WS", "Apia", -13.83, -171.77, 25, 38800, false}
	berlinWide := loc{"DE", "Berlin", 52.52, 13.405, 1000, 3320, false}
	vienna := loc{"AT", "Vienna", 48.21, 16.37, 20, 8447, false}
	mcmurdo := loc{"AQ", "McMurdo", -77.85, 166.67, 10, 64600, false}
	pole := loc{"AQ", "South Pole", -90, 0, 10, 64601, false}
	tests := []struct {
		name   string
		a, b   loc
		gap    time.Duration
		impose bool
	}{
		{"antimeridian, 3h: a flight", suva, apia, 3 * time.Hour, false},
		{"antimeridian, 30m: impossible", suva, apia, 30 * time.Minute, true},
		{"same second, Berlin and New York", berlin, newYork, 0, true},
		{"1000 km radius, 520 km hop", berlinWide, vienna, 5 * time.Minute, false},
		{"McMurdo to the pole (1,350 km) in 3h", mcmurdo, pole, 3 * time.Hour, false},
		{"McMurdo to the pole in 30m", mcmurdo, pole, 30 * time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := []enrich.Event{ev(at(0), from("203.0.113.1"), where(tt.a)), ev(at(tt.gap), from("198.51.100.1"), where(tt.b))}
			got := run(t, DefaultConfig(), evs)
			if hasAlert(got, RuleImpossibleTravel, "", "") != tt.impose {
				t.Errorf("alerts %v, want impossible_travel %t", rulesOf(got), tt.impose)
			}
		})
	}
}

// Session ids are per account and an empty id links nothing: a source
// with short numeric session ids ("1") reused by two users on two
// continents, and an account whose events carry no session id, raise no
// session_hijack. What the SOC sees: nothing.
func TestSessionIdsLinkOneAccountOnly(t *testing.T) {
	evs := []enrich.Event{
		ev(at(0), session("1")),
		ev(at(time.Minute), session("1"), user("bob@example.org"), from("73.0.0.5"), where(newYork)),
		ev(at(2*time.Minute), kind(ingest.TypeMailboxAccess), session(""), user("carl@example.org")),
		ev(at(3*time.Minute), kind(ingest.TypeMailboxAccess), session(""), user("carl@example.org"), from("73.0.0.9"), where(newYork)),
	}
	got := run(t, DefaultConfig(), evs)
	if hasAlert(got, RuleSessionHijack, "", "") {
		t.Errorf("alerts %v: session ids linked across accounts or empty ids linked", rulesOf(got))
	}
}

// Window boundaries are inclusive, as "within" in detection.md: the 10th
// failure exactly 30 min after the first is a brute force, a nanosecond
// later it is not; the success exactly 15 min after the first of 3 MFA
// denials is fatigue, a nanosecond later it is not. What the SOC sees: the
// documented thresholds, to the nanosecond.
func TestWindowBoundariesInclusive(t *testing.T) {
	brute := func(extra time.Duration) []enrich.Event {
		var evs []enrich.Event
		for i := range 10 {
			d := time.Duration(i) * 200 * time.Second // 9 × 200 s = 30 min
			if i == 9 {
				d += extra
			}
			evs = append(evs, ev(at(d), failed(), reason("bad_password"), from("95.24.0.7"), where(lagos)))
		}
		return evs
	}
	if got := run(t, DefaultConfig(), brute(0)); !hasAlert(got, RuleBruteForce, "", "") {
		t.Errorf("10 failures in exactly 30m: %v, want brute_force", rulesOf(got))
	}
	if got := run(t, DefaultConfig(), brute(time.Nanosecond)); hasAlert(got, RuleBruteForce, "", "") {
		t.Errorf("10 failures in 30m + 1ns: %v, want none", rulesOf(got))
	}
	mfa := func(extra time.Duration) []enrich.Event {
		return []enrich.Event{
			ev(at(0), failed(), reason("mfa_denied"), from("105.112.0.5"), where(lagos)),
			ev(at(5*time.Minute), failed(), reason("mfa_denied"), from("105.112.0.5"), where(lagos)),
			ev(at(10*time.Minute), failed(), reason("mfa_timeout"), from("105.112.0.5"), where(lagos)),
			ev(at(15*time.Minute+extra), from("105.112.0.5"), where(lagos)),
		}
	}
	if got := run(t, DefaultConfig(), mfa(0)); !hasAlert(got, RuleMFAFatigue, "", "") {
		t.Errorf("3 denials then success at exactly 15m: %v, want mfa_fatigue", rulesOf(got))
	}
	if got := run(t, DefaultConfig(), mfa(time.Nanosecond)); hasAlert(got, RuleMFAFatigue, "", "") {
		t.Errorf("3 denials then success at 15m + 1ns: %v, want none", rulesOf(got))
	}
}

// Bulk reading that straddles a full hour is counted as within one hour:
// 300 items at 10:59 and 300 at 11:00:30 are 600 within two minutes
// (bulk_min_items is 500), though neither clock hour reaches 500; the
// same reads 110 minutes apart are not. Counted by clock hour alone, the
// first pair passed at nearly twice the threshold.
func TestBulkReadingAcrossTheHour(t *testing.T) {
	base := tenOClock()
	tests := []struct {
		name string
		evs  []enrich.Event
		bulk bool
	}{
		{"straddling 11:00", []enrich.Event{mailRead(base+59*time.Minute, 300), mailRead(base+60*time.Minute+30*time.Second, 300)}, true},
		{"110 minutes apart", []enrich.Event{mailRead(base+5*time.Minute, 300), mailRead(base+115*time.Minute, 300)}, false},
		{"an hour skipped", []enrich.Event{mailRead(base+59*time.Minute, 300), mailRead(base+2*time.Hour+30*time.Second, 300)}, false},
		{"one clock hour", []enrich.Event{mailRead(base+5*time.Minute, 300), mailRead(base+50*time.Minute, 300)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, DefaultConfig(), tt.evs)
			if hasAlert(got, RuleMassMailboxAccess, "", "") != tt.bulk {
				t.Errorf("alerts %v, want mass_mailbox_access %t", rulesOf(got), tt.bulk)
			}
		})
	}
}

// mailRead is a mailbox access reading items, at t0 plus d.
func mailRead(d time.Duration, items int) enrich.Event {
	e := ev(at(d), kind(ingest.TypeMailboxAccess), session("s1"))
	e.Items = items
	return e
}

// tenOClock is an hour's start, 10:00 after t0's hour, as an offset from t0.
func tenOClock() time.Duration { return t0.Truncate(time.Hour).Sub(t0) + 10*time.Hour }

// A rule forwarding to the account's own domain written with a trailing
// dot, in angle brackets or as Exchange's [SMTP:…] is internal: the
// forwarding_rule alert was raised for each, as for mail leaving the
// organisation.
func TestForwardingDomainSpellings(t *testing.T) {
	for _, to := range []string{"team@example.org.", "Team <team@example.org>", "[SMTP:team@example.org]", `"team@Example.ORG"`} {
		e := ev(at(0), kind(ingest.TypeInboxRule))
		e.Rule = &ingest.InboxRule{Name: "copy", ForwardTo: []string{to}}
		if got := run(t, DefaultConfig(), []enrich.Event{e}); hasAlert(got, RuleForwardingRule, "", "") {
			t.Errorf("forwarding to %q: %v", to, rulesOf(got))
		}
	}
	e := ev(at(0), kind(ingest.TypeInboxRule))
	e.Rule = &ingest.InboxRule{Name: "out", ForwardTo: []string{"<drop@evil.example.>"}}
	if got := run(t, DefaultConfig(), []enrich.Event{e}); !hasAlert(got, RuleForwardingRule, "", "") {
		t.Errorf("forwarding outside: %v, want forwarding_rule", rulesOf(got))
	}
}
