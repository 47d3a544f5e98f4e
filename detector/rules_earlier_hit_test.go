package detector

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/atod-project/atod/enrich"
)

// stuffingWithHit is TestHitBeforeTheAttackShows's attack: 13 accounts
// tried from ip 10 s apart starting at start, the hitter-th (with a week
// of history) a hit.
func stuffingWithHit(ip string, start time.Duration, hitter int) []enrich.Event {
	return guesses(13, start, func(int) string { return ip }, hitter)
}

// guesses is an attack on n accounts u000, u001, … from Lagos, 10 s apart
// from start, account i from the address addrOf(i), every third a name
// that does not exist; the hitter-th (-1: none), with a week of history,
// is a hit.
func guesses(n int, start time.Duration, addrOf func(i int) string, hitter int) []enrich.Event {
	var evs []enrich.Event
	if hitter >= 0 {
		evs = history(fmt.Sprintf("u%03d@example.org", hitter))
	}
	for i := range n {
		u := user(fmt.Sprintf("u%03d@example.org", i))
		d := start + time.Duration(i)*10*time.Second
		ip := addrOf(i)
		if i == hitter {
			evs = append(evs, ev(at(d), from(ip), where(lagos), u))
			continue
		}
		r := "bad_password"
		if i%3 == 0 {
			r = "unknown_user"
		}
		evs = append(evs, ev(at(d), failed(), reason(r), from(ip), where(lagos), u))
	}
	return evs
}

func revokesOf(alerts []Alert, account string) []Alert {
	var r []Alert
	for _, a := range alerts {
		if a.User == account && a.Action == ActionRevoke {
			r = append(r, a)
		}
	}
	return r
}

// The attacker's early hit (u001, the valid pair 10 s into the list) is
// revoked when the attack is found; the attacker, holding the password,
// signs in again from the same address 5 and 20 minutes later. The first
// hit, which raised nothing at its own time, taught u001 the attacker's
// network; those sign-ins are still hits (au.HitAt), not sign-ins from a
// network the account knows.
func TestAttackerBackAfterEarlierHit(t *testing.T) {
	const ip = "105.112.9.9"
	evs := stuffingWithHit(ip, 0, 1)
	evs = append(evs,
		ev(at(5*time.Minute), from(ip), where(lagos), user("u001@example.org")),
		ev(at(20*time.Minute), from(ip), where(lagos), user("u001@example.org")))
	got := run(t, DefaultConfig(), evs)
	rev := revokesOf(got, "u001@example.org")
	if len(rev) == 0 {
		t.Fatalf("set-up: u001 never revoked: %v", rulesOf(got))
	}
	var after []Alert
	for _, a := range rev {
		if !a.Time.Before(t0.Add(5 * time.Minute)) {
			after = append(after, a)
		}
	}
	if len(after) == 0 {
		t.Errorf("the attacker signed in again as u001 from the attacking address after the revocation (at +5m and +20m): no alert; revocations only at %v", times(rev))
	}
}

func times(as []Alert) []string {
	var s []string
	for _, a := range as {
		s = append(s, a.Time.Sub(t0).String()+" "+a.Rule)
	}
	return s
}

// One sign-in, one revocation: an address attack opens an incident and
// goes quiet; 100 minutes later x (a stranger to the address, from Lagos)
// signs in from it while it is still marked (attack memory 24h): that is
// compromise_after_attack, revoked. Five minutes later the attack resumes
// with 8 new accounts, more than incident_gap after the last: a new
// address incident, whose earlierHits must not revoke x's success again
// (the first version did, under another alert id).
func TestEarlierHitRevokedOnceAcrossIncidents(t *testing.T) {
	const ip = "105.112.9.9"
	evs := stuffingWithHit(ip, 0, -1)
	evs = append(evs, ev(at(100*time.Minute), from(ip), where(lagos), user("x@example.org")))
	for i := range 9 {
		evs = append(evs, ev(at(105*time.Minute+time.Duration(i)*10*time.Second), failed(), reason("bad_password"),
			from(ip), where(lagos), user(fmt.Sprintf("w%03d@example.org", i))))
	}
	got := run(t, DefaultConfig(), evs)
	if countRule(got, RulePasswordSpray)+countRule(got, RuleCredentialStuffing) < 2 {
		t.Fatalf("set-up: want two address incidents: %v", rulesOf(got))
	}
	if rev := revokesOf(got, "x@example.org"); len(rev) != 1 {
		t.Errorf("x's one sign-in from the attacking address: %d revocations %v, want 1", len(rev), times(rev))
	}
}

// The same, with the first revocation from the distributed spray rule: x
// signs in from an address that sprayed other accounts (revoked as the
// spray's hit); 10 minutes later that address is found attacking on its
// own (8 accounts within 30 min): x is not revoked again (au.Raised).
func TestEarlierHitAfterSprayHitRevokedOnce(t *testing.T) {
	var evs []enrich.Event
	for i := range 24 {
		evs = append(evs, ev(at(time.Duration(i)*7*time.Minute), failed(), reason("unknown_user"),
			from(fmt.Sprintf("78.46.%d.9", i%6)), where(munich), user(fmt.Sprintf("u%02d@example.org", i))))
	}
	for d := 6; d >= 1; d-- {
		evs = append(evs, ev(at(-time.Duration(d)*24*time.Hour), user("x@example.org")))
	}
	evs = append(evs, ev(at(3*time.Hour), from("78.46.2.9"), where(munich), user("x@example.org")))
	for i := range 8 {
		evs = append(evs, ev(at(3*time.Hour+5*time.Minute+time.Duration(i)*10*time.Second), failed(), reason("unknown_user"),
			from("78.46.2.9"), where(munich), user(fmt.Sprintf("v%02d@example.org", i))))
	}
	slices.SortStableFunc(evs, func(a, b enrich.Event) int { return a.Time.Compare(b.Time) })
	got := run(t, DefaultConfig(), evs)
	if !hasAlert(got, RuleCompromise, "x@example.org", ActionRevoke) {
		t.Fatalf("set-up: x not revoked as the spray's hit: %v", rulesOf(got))
	}
	if rev := revokesOf(got, "x@example.org"); len(rev) != 1 {
		t.Errorf("x's one sign-in: %d revocations %v, want 1", len(rev), times(rev))
	}
}

// An earlier hit's evidence is the success, not the account's latest
// attempt from the address (a failure after the success was cited).
func TestEarlierHitEvidenceIsTheSuccess(t *testing.T) {
	const ip = "105.112.9.9"
	evs := stuffingWithHit(ip, 0, 1)
	// u001 (the hit at +10s) is tried again at +15s and fails (the
	// attacker's tool checking the pair, or MFA): before the 8th account.
	extra := ev(at(15*time.Second), failed(), reason("bad_password"), from(ip), where(lagos), user("u001@example.org"))
	evs = append(evs, extra)
	slices.SortStableFunc(evs, func(a, b enrich.Event) int { return a.Time.Compare(b.Time) })
	hitID := evs[slices.IndexFunc(evs, func(e enrich.Event) bool { return e.User == "u001@example.org" && e.Time.Equal(t0.Add(10*time.Second)) })].ID
	got := run(t, DefaultConfig(), evs)
	rev := revokesOf(got, "u001@example.org")
	if len(rev) == 0 {
		t.Fatalf("set-up: u001 not revoked: %v", rulesOf(got))
	}
	if !slices.Contains(rev[0].Evidence, hitID) {
		t.Errorf("revocation of u001 for its success %s: evidence %v (the later failure is %s)", hitID, rev[0].Evidence, extra.ID)
	}
}

// A success 2 hours before the attack is found is no earlier hit, though
// the account kept failing from the address since (each attempt moves
// au.Last): only successes in the 30 min before count (au.HitAt).
func TestEarlierHitOlderThanWindowIsNone(t *testing.T) {
	const ip = "105.112.9.9"
	evs := []enrich.Event{ev(at(-2*time.Hour), from(ip), where(lagos), user("x@example.org"))}
	for d := -100 * time.Minute; d < 0; d += 20 * time.Minute {
		evs = append(evs, ev(at(d), failed(), reason("bad_password"), from(ip), where(lagos), user("x@example.org")))
	}
	evs = append(evs, stuffingWithHit(ip, 0, -1)...)
	got := run(t, DefaultConfig(), evs)
	if !hasAlert(got, RuleCredentialStuffing, "", "") && !hasAlert(got, RulePasswordSpray, "", "") {
		t.Fatalf("set-up: no address attack: %v", rulesOf(got))
	}
	for _, a := range got {
		if a.Rule == RuleCompromise && a.User == "x@example.org" && a.Time.After(t0.Add(-time.Minute)) {
			t.Errorf("x's success 2h before the attack was found revoked as an earlier hit: %v %v", a.Reasons, a.Evidence)
		}
	}
}

// Never-revoke applies to the earlier hit's account, not the failing
// event's (raise uses f.account for the never_revoke list).
func TestEarlierHitNeverRevoke(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Policy.NeverRevoke = []string{"u001@example.org"}
	got := run(t, cfg, stuffingWithHit("105.112.9.9", 0, 1))
	if !hasAlert(got, RuleCompromise, "u001@example.org", ActionAlert) || hasAlert(got, RuleCompromise, "u001@example.org", ActionRevoke) {
		t.Errorf("u001 on never_revoke: %v, want compromise alert only", rulesOf(got))
	}
}

// Bulk reading at the end of each clock hour: 450 items at 10:59 and 450
// at 11:58 are 900 within 59 minutes (bulk_min_items 500). The previous
// hour counts whole while its last read is within the last 60 minutes;
// weighed as if read evenly (the first sliding hour) it gave "about 457".
func TestBulkReadingLateInEachHour(t *testing.T) {
	base := tenOClock()
	got := run(t, DefaultConfig(), []enrich.Event{mailRead(base+59*time.Minute, 450), mailRead(base+118*time.Minute, 450)})
	if !hasAlert(got, RuleMassMailboxAccess, "", "") {
		t.Errorf("900 items read within 59 minutes (bulk_min_items 500): alerts %v, want mass_mailbox_access", rulesOf(got))
	}
}

// At the hour boundary: the previous hour counts while its last read is
// less than 60 minutes ago. 300 items at 10:00:30 and 300 at 11:00:00 are
// bulk; 300 every hour on the hour (busy_mailbox) are not.
func TestBulkReadingExactHour(t *testing.T) {
	base := tenOClock()
	got := run(t, DefaultConfig(), []enrich.Event{mailRead(base+30*time.Second, 300), mailRead(base+time.Hour, 300)})
	if !hasAlert(got, RuleMassMailboxAccess, "", "") {
		t.Errorf("300 at 10:00:30 and 300 at 11:00:00: %v, want bulk", rulesOf(got))
	}
	got = run(t, DefaultConfig(), []enrich.Event{mailRead(base, 300), mailRead(base+time.Hour, 300)})
	if hasAlert(got, RuleMassMailboxAccess, "", "") {
		t.Errorf("300 at 10:00:00 and 300 at 11:00:00: %v, want none", rulesOf(got))
	}
}

// The clinic of TestOwnOfficeIsNoHit with a new hire: on her first
// morning she signs in from the office at 07:55 (no known network yet),
// then 8 colleagues type their expired password. The office is marked as
// attacking, but her sign-in is no earlier hit: as for compromise after a
// brute force, a learning account's success counts only if it looks
// risky itself. (The first version of earlierHits revoked her.)
func TestNewHireAtOwnOfficeIsNoEarlierHit(t *testing.T) {
	const office = "84.128.0.10"
	evs := officeWeek(office)
	evs = append(evs, ev(at(-5*time.Minute), from(office), user("newhire@clinic.example"), device("pc10")))
	for i := range 8 {
		evs = append(evs, ev(at(time.Duration(i)*time.Minute), failed(), reason("bad_password"), from(office),
			user(fmt.Sprintf("staff%d@clinic.example", i)), device(fmt.Sprintf("pc%d", i))))
	}
	got := run(t, DefaultConfig(), evs)
	if rev := revokesOf(got, "newhire@clinic.example"); len(rev) > 0 {
		t.Errorf("a new hire's first sign-in from her own office, before colleagues mistyped expired passwords: revoked %v %v", times(rev), rev[0].Reasons)
	}
}

// The early-hit attack gives the same alerts and ids in batches of one
// (live), in replay batches, and with the ceiling set (earlierHits across
// batch boundaries).
func TestEarlierHitSameInLiveAndReplay(t *testing.T) {
	evs := stuffingWithHit("105.112.9.9", 0, 1)
	ids := func(as []Alert) []string {
		var s []string
		for _, a := range as {
			s = append(s, a.ID+"/"+a.User)
		}
		return s
	}
	want := ids(run(t, DefaultConfig(), evs))
	for _, size := range []int{1, 2, 3, 7} {
		got := ids(runBatches(t, DefaultConfig(), NewMemoryStore(DefaultConfig().UserRetention, DefaultConfig().AddrRetention), size, evs))
		if !slices.Equal(got, want) {
			t.Errorf("batch size %d: %v, replay %v", size, got, want)
		}
	}
	live, _ := runLive(t, DefaultConfig(), t0.Add(time.Hour), evs)
	if got := ids(live); !slices.Equal(got, want) {
		t.Errorf("live: %v, replay %v", got, want)
	}
}

// Addresses that embed an IPv4 address of their own in the low 64 bits
// (NAT64/SIIT 64:ff9b::/96, Teredo 2001::/32) are not one host per /64:
// unrelated IPv4 users, each mistyping a password once through a SIIT
// gateway, are not one address attacking many accounts.
func TestEmbeddedIPv4IsNoSlash64(t *testing.T) {
	for _, pfx := range []string{"64:ff9b::%d.%d.7.9", "2001:0:4136:e378:8000:63bf:%d.%d.7.9"} {
		var evs []enrich.Event
		for i := range 9 {
			evs = append(evs, ev(at(time.Duration(i)*time.Minute), failed(), reason("bad_password"),
				from(fmt.Sprintf(pfx, 80+i, 10+i)), user(fmt.Sprintf("u%d@example.org", i))))
		}
		got := run(t, DefaultConfig(), evs)
		if hasAlert(got, RulePasswordSpray, "", "") || hasAlert(got, RuleCredentialStuffing, "", "") {
			t.Errorf("%s: 9 users at 9 IPv4 addresses, one typo each: %v", pfx, rulesOf(got))
		}
	}
}
