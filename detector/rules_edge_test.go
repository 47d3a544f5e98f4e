package detector

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
)

// An account whose sign-ins all come from internal networks (no country:
// an on-premises mail server's users on the LAN) leaves its learning
// period for brute-force compromise after learning_logins sign-ins: a
// brute force from outside that ends in a success there revokes. (Asking
// for a place with a country too, as the sign-in risk rule does, kept such
// accounts learning for ever; TestRealDovecot caught it.)
func TestCompromiseAfterInternalSignIns(t *testing.T) {
	var evs []enrich.Event
	for d := 6; d >= 1; d-- {
		evs = append(evs, ev(at(-time.Duration(d)*24*time.Hour), from("10.20.0.5"),
			func(e *enrich.Event) { e.Geo = enrich.Geo{Kind: enrich.KindPrivate} }))
	}
	for i := range 12 {
		evs = append(evs, ev(at(time.Duration(i)*20*time.Second), failed(), reason("bad_password"), from("84.128.0.99")))
	}
	evs = append(evs, ev(at(5*time.Minute), from("84.128.0.99")))
	got := run(t, DefaultConfig(), evs)
	if !slices.ContainsFunc(got, func(a Alert) bool { return a.Rule == RuleCompromise && a.Action == ActionRevoke }) {
		t.Errorf("brute force then success on an account known from the LAN only: %v, want compromise_after_attack", rulesOf(got))
	}
}

// detection.md: "a country fewer than 0.5% of the accounts (at least 2)
// use weighs heavily". With 500 accounts, 0.5% is 2.5: a country two of
// them use is rare.
func TestRareCountryShare(t *testing.T) {
	var evs []enrich.Event
	for i := range 500 {
		l, ip := berlin, fmt.Sprintf("84.128.%d.%d", i/250, i%250)
		if i < 2 {
			l, ip = lagos, fmt.Sprintf("105.112.0.%d", i+1)
		}
		evs = append(evs, ev(at(time.Duration(i)*time.Second), user(fmt.Sprintf("u%03d@example.org", i)), from(ip), where(l)))
	}
	evs = append(evs, ev(at(13*time.Hour), user("new@example.org"), from("105.112.0.77"), where(lagos)))
	got := run(t, DefaultConfig(), evs)
	if len(got) != 1 || got[0].Rule != RuleNewLocation {
		t.Errorf("learning account from a country 2 of 500 accounts use: got %v, want new_location", rulesOf(got))
	}
}

// One alert per incident, also when an account's takeover trips more
// rules than it keeps incidents for: the account-level rules are ten,
// maxIncidents is 8, and the least recent incident is evicted while still
// open, so the next finding of its rule raises a second alert under a new
// id.
func TestOneAlertPerIncidentDuringAFullTakeover(t *testing.T) {
	lagosIP := "105.112.0.5"
	var evs []enrich.Event
	for d := 6; d >= 1; d-- {
		evs = append(evs, ev(at(-time.Duration(d)*24*time.Hour)))
	}
	evs = append(evs, ev(at(-time.Hour), session("s1")))
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	for i := range 10 { // brute force: alert on the 10th failure, at 180s
		evs = append(evs, ev(at(sec(20*i)), failed(), reason("bad_password"), from(lagosIP), where(lagos)))
	}
	for i := range 3 { // MFA fatigue
		evs = append(evs, ev(at(sec(200+10*i)), failed(), reason("mfa_denied"), from(lagosIP), where(lagos)))
	}
	// The success: compromise, mfa_fatigue, impossible_travel, new_location.
	evs = append(evs, ev(at(sec(240)), from(lagosIP), where(lagos), session("s2")))
	// The stolen cookie reads the mailbox: session_hijack, mass_mailbox_access.
	bulk := ev(at(sec(300)), kind("mailbox_access"), session("s1"), from(lagosIP), where(lagos))
	bulk.Items = 5000
	fwd := ev(at(sec(360)), kind("inbox_rule"), from(lagosIP), where(lagos))
	fwd.Rule = &ingest.InboxRule{Name: "x", ForwardTo: []string{"drop@evil.example"}}
	hide := ev(at(sec(420)), kind("inbox_rule"), from(lagosIP), where(lagos))
	hide.Rule = &ingest.InboxRule{Name: "y", Delete: true}
	evs = append(evs, bulk, fwd, hide,
		// One more guess, 5 minutes after the last: the same brute force.
		ev(at(sec(480)), failed(), reason("bad_password"), from(lagosIP), where(lagos)))
	got := run(t, DefaultConfig(), evs)
	seen := map[string]string{}
	for _, a := range got {
		k := a.Rule + "/" + a.Action
		if id, ok := seen[k]; ok {
			t.Errorf("incident %s raised twice (ids %s, %s): %v", k, id, a.ID, rulesOf(got))
		}
		seen[k] = a.ID
	}
	if len(seen) < 9 {
		t.Fatalf("scenario raised only %v", rulesOf(got))
	}
}
