package detector

import (
	"fmt"
	"testing"
	"time"

	"github.com/atod-project/atod/ingest"
)

// An account past its learning period moves to a new network (a new home
// line behind a carrier's shared address): its first sign-in there is a
// stranger's success (AddrUser.HitAt set). Its mail client then signs in
// every 10 minutes for two days. Two days later another host behind the
// same shared address sprays other accounts; the account's next sign-in
// from its own network of two days is no hit: its own sign-ins while no
// attack went on cleared HitAt. (Before, any HitAt, however old, was "the
// attacker back", and the account was revoked.)
func TestOldHitLeavesOwnNetwork(t *testing.T) {
	const home = "91.64.7.7"
	evs := history("anna@example.org")
	for d := -48 * time.Hour; d < 0; d += 10 * time.Minute {
		evs = append(evs, ev(at(d), from(home), where(berlin)))
	}
	for i := range 10 {
		evs = append(evs, ev(at(time.Duration(i)*10*time.Second), failed(), reason("bad_password"),
			from(home), where(berlin), user(fmt.Sprintf("v%03d@example.org", i))))
	}
	evs = append(evs, ev(at(5*time.Minute), from(home), where(berlin)))
	got := run(t, DefaultConfig(), evs)
	if countRule(got, RulePasswordSpray)+countRule(got, RuleCredentialStuffing) == 0 {
		t.Fatalf("set-up: the address was not found attacking: %v", rulesOf(got))
	}
	if rev := revokesOf(got, "anna@example.org"); len(rev) != 0 {
		t.Errorf("anna signed in from her own network of two days (every 10 min) while another host behind it sprayed: %d revocations %v, want none",
			len(rev), times(rev))
	}
}

// 6to4 (2002::/16) embeds the IPv4 address in the high bits: 2002:V4ADDR::/48
// is the whole site of that one IPv4 host, which numbers its /64s and
// hosts at will. It is keyed by its /48, so an attacker on one IPv4
// address behind 6to4 with a fresh address per guess is one address
// (keyed by its full address, as the first exception had it, it raised
// nothing).
func TestSixToFourSiteIsOneAddress(t *testing.T) {
	evs := guesses(12, 0, func(i int) string { return fmt.Sprintf("2002:cb00:7105:1::%x", i+1) }, -1)
	got := run(t, DefaultConfig(), evs)
	if !hasAlert(got, RuleCredentialStuffing, "", "") && !hasAlert(got, RulePasswordSpray, "", "") {
		t.Errorf("stuffing from one 6to4 /64 (one IPv4 host, 203.0.113.5), one address per guess: alerts %v, want an address attack", rulesOf(got))
	}
}

// detector.policy.never_revoke is matched as events spell the account
// (ingest.FoldUser): a break-glass account listed as it is written,
// "nikos.papadopoulos" in Greek with its final sigma or in capitals, is
// the account atod sees, and its compromise is not revoked.
func TestNeverRevokeMatchesFoldedNames(t *testing.T) {
	for _, listed := range []string{"νίκος@example.gr", "ηλίας@example.gr", "ΜΙΧΆΛΗΣ@example.gr"} {
		e, err := ingest.ParseCanonical([]byte(`{"time":"2026-03-02T08:31:07Z","user":"` + listed + `","ip":"192.0.2.1","outcome":"success"}`))
		if err != nil {
			t.Fatal(err)
		}
		account := e.User // as ingest hands it on
		const ip = "105.112.9.9"
		evs := stuffingWithHit(ip, 0, -1)
		evs = append(evs, ev(at(100*time.Minute), from(ip), where(lagos), user(account)))
		cfg := DefaultConfig()
		cfg.Policy.NeverRevoke = []string{listed}
		got := run(t, cfg, evs)
		if !hasAlert(got, RuleCompromise, account, "") {
			t.Fatalf("set-up: no compromise for %q: %v", account, rulesOf(got))
		}
		if rev := revokesOf(got, account); len(rev) != 0 {
			t.Errorf("never_revoke lists %q; ingest names the account %q: revoked %v", listed, account, times(rev))
		}
	}
}
