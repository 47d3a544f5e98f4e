package detector

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/atod-project/atod/enrich"
)

// The organisation's pseudo-account must live as long as the organisation
// is active: its Seen moves only when an account signs in for the first
// time or from a country new to it, so a stable tenant's org state expires
// after user_retention and is wiped. Its Logins then never count the
// existing accounts again (they are past their first sign-in), so the
// rare-country weight is off for good.
func TestOrgHabitsSurviveWhileTheTenantIsActive(t *testing.T) {
	cfg := DefaultConfig()
	cfg.UserRetention = 48 * time.Hour
	var evs []enrich.Event
	for d := range 6 { // every day, 25 accounts sign in from Berlin
		for i := range 25 {
			evs = append(evs, ev(at(time.Duration(d)*24*time.Hour+time.Duration(i)*time.Second),
				user(fmt.Sprintf("u%02d@example.org", i)), from(fmt.Sprintf("84.128.%d.10", i))))
		}
	}
	// A new account, still learning, signs in from Lagos: only the
	// organisation can tell that nobody there does.
	attack := ev(at(5*24*time.Hour+time.Hour), user("new@example.org"), from("105.112.0.5"), where(lagos))
	// Control: the same sign-in on day 1, while the org state is fresh.
	early := ev(at(24*time.Hour+time.Hour), user("new@example.org"), from("105.112.0.5"), where(lagos))
	if got := run(t, cfg, append(evs[:50:50], early)); len(got) != 1 || got[0].Rule != RuleNewLocation {
		t.Fatalf("control: got %v, want new_location for a country nobody in the organisation uses", rulesOf(got))
	}
	store := NewMemoryStore(cfg.UserRetention, cfg.AddrRetention)
	got := runBatches(t, cfg, store, 25, append(evs, attack))
	us, _, err := store.Load(context.Background(), []string{orgKey("")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Rule != RuleNewLocation {
		t.Errorf("after %s of daily sign-ins: got %v, want new_location; org state: Logins %d, Countries %v, Seen %s",
			5*24*time.Hour, rulesOf(got), us[0].Logins, us[0].Countries, us[0].Seen)
	}
}

// State is kept only as long as a rule needs it. A failure that may be
// part of a distributed spray names the account and the address; after
// distributed_spray.window (plus the lateness) no rule can use it, yet the
// organisation keeps it until the next such failure, or until the whole
// organisation expires. Likewise an account's latest risky sign-in (its
// address, session hash and event id) is only used within
// signin_risk.risk_memory, yet stays for user_retention.
func TestSprayAttemptsAndRiskyLoginsAreForgotten(t *testing.T) {
	cfg := DefaultConfig()
	var evs []enrich.Event
	for d := 6; d >= 1; d-- {
		evs = append(evs, ev(at(-time.Duration(d)*24*time.Hour)))
	}
	// One guess at anna from an address she never used: a spray candidate.
	evs = append(evs, ev(at(0), failed(), reason("bad_password"), from("78.46.0.9"), where(munich)))
	// A risky sign-in by bob (new country and network), then three days of
	// ordinary sign-ins by both.
	evs = append(evs, ev(at(time.Minute), user("bob@example.org"), from("84.128.7.7")))
	for d := 1; d <= 5; d++ {
		evs = append(evs, ev(at(time.Duration(d)*time.Hour), user("bob@example.org"), from("84.128.7.7")))
	}
	evs = append(evs, ev(at(6*time.Hour), user("bob@example.org"), from("105.112.0.5"), where(lagos)))
	for d := 1; d <= 3; d++ {
		evs = append(evs, ev(at(time.Duration(d)*24*time.Hour)),
			ev(at(time.Duration(d)*24*time.Hour+time.Minute), user("bob@example.org"), from("84.128.7.7")))
	}
	store := NewMemoryStore(cfg.UserRetention, cfg.AddrRetention)
	got := runStore(t, cfg, store, evs)
	if !slices.ContainsFunc(got, func(a Alert) bool { return a.User == "bob@example.org" }) {
		t.Fatalf("scenario: bob's Lagos sign-in was not risky: %v", rulesOf(got))
	}
	us, _, err := store.Load(context.Background(), []string{orgKey(""), "bob@example.org"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if org := us[0]; len(org.Sprays) != 0 {
		t.Errorf("organisation keeps spray attempts 3 days old, past the %s window: %+v", cfg.Spray.Window, org.Sprays)
	}
	if bob := us[1]; !bob.Risk.Time.IsZero() && bob.Seen.Sub(bob.Risk.Time) > cfg.SignIn.RiskMemory+cfg.Lateness {
		t.Errorf("account keeps a risky sign-in %s old (risk_memory %s): %+v", bob.Seen.Sub(bob.Risk.Time), cfg.SignIn.RiskMemory, bob.Risk)
	}
}
