package detector

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/atod-project/atod/enrich"
)

// The attacker's early hit, from a network whose risk raised nothing (a
// Munich address for a Berlin account: new ASN, no new country), taught
// u001 that network. The attacker signs in again 5 s later, still before
// the 8th failing account marks the address. That second success is no
// "hit" (u001 knows the network now), but it must not erase the first:
// u001 is revoked when the attack is found. (Clearing any hit on an
// unmarked sign-in, as a first fix for old hits did, let it go.)
func TestSecondSignInKeepsEarlierHit(t *testing.T) {
	const ip = "78.46.2.9"
	build := func(again bool) []enrich.Event {
		evs := history("u001@example.org")
		for i := range 13 {
			u := user(fmt.Sprintf("u%03d@example.org", i))
			d := time.Duration(i) * 10 * time.Second
			if i == 1 {
				evs = append(evs, ev(at(d), from(ip), where(munich), u))
				if again {
					evs = append(evs, ev(at(d+5*time.Second), from(ip), where(munich), u))
				}
				continue
			}
			r := "bad_password"
			if i%3 == 0 {
				r = "unknown_user"
			}
			evs = append(evs, ev(at(d), failed(), reason(r), from(ip), where(munich), u))
		}
		return evs
	}
	got := run(t, DefaultConfig(), build(false))
	if len(revokesOf(got, "u001@example.org")) == 0 {
		t.Fatalf("set-up: the single early hit is not revoked: %v", rulesOf(got))
	}
	got = run(t, DefaultConfig(), build(true))
	if countRule(got, RulePasswordSpray)+countRule(got, RuleCredentialStuffing) == 0 {
		t.Fatalf("set-up: no address attack: %v", rulesOf(got))
	}
	if rev := revokesOf(got, "u001@example.org"); len(rev) == 0 {
		t.Errorf("the attacker's hit at +10s and sign-in again at +15s, both before the address was marked at +80s: u001 not revoked (alerts %v)", rulesOf(got))
	}
}

// One item read at the top of an hour does not hide bulk reading: 1 item
// at 10:00, 498 at 10:59 and 450 at 11:55 are 948 items within 56
// minutes (bulk_min_items 500). Taking the previous hour as read evenly
// between its first and last reads counted 33 of it, 483 in all.
func TestBulkNotEvadedByOneEarlyRead(t *testing.T) {
	base := tenOClock()
	evs := []enrich.Event{mailRead(base, 1), mailRead(base+59*time.Minute, 498), mailRead(base+115*time.Minute, 450)}
	if got := run(t, DefaultConfig(), evs); !hasAlert(got, RuleMassMailboxAccess, "", "") {
		t.Errorf("948 items read between 10:59 and 11:55 (bulk_min_items 500): %v, want mass_mailbox_access", rulesOf(got))
	}
	// Control: without the one read at 10:00 it is found.
	evs = []enrich.Event{mailRead(base+59*time.Minute, 499), mailRead(base+115*time.Minute, 450)}
	if got := run(t, DefaultConfig(), evs); !hasAlert(got, RuleMassMailboxAccess, "", "") {
		t.Errorf("control: 949 items between 10:59 and 11:55: %v, want mass_mailbox_access", rulesOf(got))
	}
}

// Teredo keys: two clients behind different public IPv4 addresses using
// the same Teredo server are different keys; one client whose NAT port
// or server changes is one key.
func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestTeredoKey(t *testing.T) {
	a := addrKey(mustAddr("2001:0:4136:e378:8000:63bf:3fff:fdd2"))
	b := addrKey(mustAddr("2001:0:4136:e378:8000:1234:3fff:fdd2"))
	c := addrKey(mustAddr("2001:0:5ef5:79fd:0:63bf:3fff:fdd2"))
	d := addrKey(mustAddr("2001:0:4136:e378:8000:63bf:3fff:fdd3"))
	if a != b || a != c {
		t.Errorf("one client (obfuscated 3fff:fdd2) by other ports/servers: keys %v %v %v, want one", a, b, c)
	}
	if a == d {
		t.Errorf("two clients keyed alike: %v", a)
	}
	if n := addrName(a); n != "2001::3fff:fdd2" {
		t.Errorf("addrName(%v) = %q", a, n)
	}
}

// A Teredo client is remembered as its own network, not the Teredo
// server's /48 (2001:0 and the top 16 bits of the server's IPv4 address):
// an account that signed in once through a Teredo client knew every other
// client of that server, and the attacker stuffing from another one and
// signing in as anna was no hit.
func TestTeredoKnownNetworkIsTheClient(t *testing.T) {
	const home = "2001:0:4136:e378:8000:63bf:3fff:fdd2"     // client 192.0.2.45
	const attacker = "2001:0:4136:e378:8000:1111:8cff:fef6" // client 115.0.1.9
	build := func(home string) []enrich.Event {
		evs := []enrich.Event{}
		for d := 6; d >= 1; d-- {
			evs = append(evs, ev(at(-time.Duration(d)*24*time.Hour), from(home), where(berlin)))
		}
		for i := range 12 {
			r := "bad_password"
			if i%3 == 0 {
				r = "unknown_user"
			}
			evs = append(evs, ev(at(time.Duration(i)*10*time.Second), failed(), reason(r),
				from(attacker), where(lagos), user(fmt.Sprintf("u%03d@example.org", i))))
		}
		return append(evs, ev(at(3*time.Minute), from(attacker), where(berlin)))
	}
	// Control: with a home line on IPv4 the same sign-in is revoked.
	if got := run(t, DefaultConfig(), build("84.128.0.10")); !hasAlert(got, RuleCompromise, "anna@example.org", ActionRevoke) {
		t.Fatalf("set-up: not revoked with an IPv4 home either: %v", rulesOf(got))
	}
	got := run(t, DefaultConfig(), build(home))
	if countRule(got, RulePasswordSpray)+countRule(got, RuleCredentialStuffing) == 0 {
		t.Fatalf("set-up: no address attack: %v", rulesOf(got))
	}
	if !hasAlert(got, RuleCompromise, "anna@example.org", ActionRevoke) {
		t.Errorf("anna signed in from the attacking Teredo client (her own is another): %v, want compromise_after_attack", rulesOf(got))
	}
}
