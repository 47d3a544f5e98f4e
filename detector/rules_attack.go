package detector

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
)

// addressAttack finds credential stuffing and password spraying from one
// address: many distinct accounts failing, few or none succeeding.
func (e *Engine) addressAttack(ev *enrich.Event, a *AddrState) (finding, bool) {
	c := &e.cfg.AddrAttack
	if !c.Enabled {
		return finding{}, false
	}
	cut := ev.Time.Add(-c.Window)
	var accounts, failedOnly, unknown int
	for i := range a.Users {
		au := &a.Users[i]
		if au.Last.Before(cut) {
			continue
		}
		accounts++
		if au.Successes == 0 {
			failedOnly++
			if au.Unknown {
				unknown++
			}
		}
	}
	if failedOnly < c.MinAccounts || float64(failedOnly) < c.MinFailShare*float64(accounts) {
		return finding{}, false
	}
	rule := RulePasswordSpray
	switch {
	case a.AttackRule != "" && ev.Time.Before(a.AttackUntil):
		// The attack keeps the name it started with: as the share of
		// unknown names shifts it would otherwise open a second incident,
		// a second alert about the same address.
		rule = a.AttackRule
	case float64(unknown) >= c.StuffingUnknownShare*float64(failedOnly):
		rule = RuleCredentialStuffing
	}
	a.AttackUntil = ev.Time.Add(c.Memory)
	a.AttackRule = rule
	if openIncident(&a.Incidents, rule, ev, e.cfg.IncidentGap.Nanoseconds()) != nil {
		// Only extends the open incident: no need to build its alert.
		return finding{rule: rule, onAddr: true, score: c.Score}, true
	}
	f := finding{
		rule:   rule,
		onAddr: true,
		score:  min(100, c.Score+(failedOnly-c.MinAccounts)/5),
		reasons: []string{fmt.Sprintf("%d accounts failed to sign in from %s within %s and %d of %d accounts tried never succeeded; %d of the failing accounts do not exist.",
			failedOnly, addrName(a.Addr), c.Window, failedOnly, accounts, unknown)},
	}
	for i := range a.Users {
		au := &a.Users[i]
		if au.Successes == 0 && !au.Last.Before(cut) {
			if len(f.users) < maxAlertUser {
				f.users = append(f.users, au.User)
			}
			f.evidence = append(f.evidence, au.EventID)
		}
	}
	slices.Sort(f.users)
	return f, true
}

// earlierHits finds the hits that came before the address was seen
// attacking: accounts that signed in successfully from it, from a network
// they had never used, within the window of the attack now found. Stuffing
// lists hold the valid pair anywhere, so the hit may come before the
// failures that give the attack away; such a hit is a compromise too.
func (e *Engine) earlierHits(ev *enrich.Event, a *AddrState, found []finding) []finding {
	cut := ev.Time.Add(-e.cfg.AddrAttack.Window)
	for i := range a.Users {
		au := &a.Users[i]
		if au.HitAt.IsZero() || au.Raised || au.HitAt.Before(cut) {
			continue
		}
		au.Raised = true
		found = append(found, finding{
			rule:     RuleCompromise,
			account:  au.User,
			score:    95,
			evidence: []string{au.EventID},
			reasons: []string{fmt.Sprintf("Signed in successfully from %s, a network the account never used, within %s before the address was found attacking many accounts (%s).",
				addrName(a.Addr), e.cfg.AddrAttack.Window, strings.ReplaceAll(a.AttackRule, "_", " "))},
		})
	}
	return found
}

// strangerHere reports whether a success would be an attack's hit, should
// its address turn out to be attacking: from a network the account never
// signed in from, by an account past its learning period or a sign-in
// that looks risky itself (a new hire's first day at the office is not).
func (e *Engine) strangerHere(ev *enrich.Event, u *UserState, risk int) bool {
	return !u.knows(ev.IP) && (u.Logins >= e.cfg.SignIn.LearningLogins || risk >= riskySignInScore)
}

// unknownFailures counts the account's recent password failures (not MFA
// ones: those mean the password was right) from networks it never signed in
// from, and lists their addresses.
func (u *UserState) unknownFailures(ev *enrich.Event, window int64) (n int, addrs []string, evidence []string) {
	for i := range u.Failures {
		f := &u.Failures[i]
		if f.Known || isMFAReason(f.Reason) || ev.Time.Sub(f.Time).Nanoseconds() > window || f.Time.After(ev.Time) {
			continue
		}
		n++
		if s := f.IP.String(); f.IP.IsValid() && !slices.Contains(addrs, s) {
			addrs = append(addrs, s)
		}
		evidence = append(evidence, f.EventID)
	}
	return n, addrs, evidence
}

func isMFAReason(r string) bool { return r == ingest.ReasonMFADenied || r == ingest.ReasonMFATimeout }

// bruteForce finds password guessing against one account from places it
// does not use.
func (e *Engine) bruteForce(ev *enrich.Event, u *UserState) (finding, bool) {
	c := &e.cfg.BruteForce
	if !c.Enabled || isMFAReason(ev.Reason) {
		return finding{}, false
	}
	n, addrs, evidence := u.unknownFailures(ev, c.Window.Nanoseconds())
	if n < c.MinFailures {
		return finding{}, false
	}
	return finding{
		rule:     RuleBruteForce,
		score:    c.Score,
		evidence: evidence,
		reasons: []string{fmt.Sprintf("%d failed sign-ins within %s from %d address(es) the account never signed in from (%s).",
			n, c.Window, len(addrs), strings.Join(capStrings(addrs, 5), ", "))},
	}, true
}

// compromise decides that a successful sign-in is the attacker's: it comes
// from an address that is attacking many accounts, or from one of a
// distributed spray's, a network the account does not use; or it ends a
// password guessing attack on this account from a place it does not use.
//
// risk is the sign-in's own risk: an account still in its learning period
// knows no networks, so there a password-guessing finding needs the sign-in
// to look risky too (the forgetful new colleague is not an attacker).
func (e *Engine) compromise(ev *enrich.Event, u *UserState, a *AddrState, au *AddrUser, risk int) (finding, bool) {
	if ev.Geo.Trusted {
		return finding{}, false
	}
	// A network the account signed in from before is its own (an office
	// whose staff mistyped an expired password is an "attack" too): a
	// success there is no hit, as for the distributed spray below, unless
	// the account learned it from an earlier hit from here (au.HitAt).
	if a != nil && e.cfg.AddrAttack.Enabled && ev.Time.Before(a.AttackUntil) && (!u.knows(ev.IP) || !au.HitAt.IsZero()) {
		return finding{
			rule:     RuleCompromise,
			score:    95,
			evidence: []string{ev.ID},
			reasons: []string{fmt.Sprintf("Sign-in succeeded from %s, an address that was attacking many accounts (%s%s) within the last %s.",
				ev.IP, strings.ReplaceAll(a.AttackRule, "_", " "), fromNet(a.Addr), e.cfg.AddrAttack.Memory)},
		}, true
	}
	if org := e.org; e.cfg.Spray.Enabled && !u.knows(ev.IP) && sprayedFrom(org, ev.IP, ev.User, ev.Time, e.cfg.Spray.Window) &&
		openIncident(&org.Incidents, RulePasswordSpray, ev, e.cfg.IncidentGap.Nanoseconds()) != nil {
		return finding{
			rule:     RuleCompromise,
			score:    95,
			evidence: []string{ev.ID},
			reasons: []string{fmt.Sprintf("Sign-in succeeded from %s, one of the addresses of a distributed password spray against the organisation, a network the account never used.",
				ev.IP)},
		}, true
	}
	c := &e.cfg.BruteForce
	if !c.Enabled || u.knows(ev.IP) || (u.Logins < e.cfg.SignIn.LearningLogins && risk < riskySignInScore) {
		return finding{}, false
	}
	n, addrs, evidence := u.unknownFailures(ev, 2*c.Window.Nanoseconds())
	if n < c.MinFailures {
		return finding{}, false
	}
	return finding{
		rule:     RuleCompromise,
		score:    90,
		evidence: append(evidence, ev.ID),
		reasons: []string{fmt.Sprintf("Sign-in succeeded from %s, a network the account never used, after %d failed sign-ins within %s from %d unfamiliar address(es).",
			ev.IP, n, 2*c.Window, len(addrs))},
	}, true
}

// mfaFatigue finds push bombing: repeated denied or ignored MFA prompts,
// then a success.
func (e *Engine) mfaFatigue(ev *enrich.Event, u *UserState) (finding, bool) {
	c := &e.cfg.MFAFatigue
	if !c.Enabled || ev.Geo.Trusted { // trusted networks are never evidence of attack (DESIGN.md)
		return finding{}, false
	}
	var n int
	var evidence []string
	for i := range u.Failures {
		f := &u.Failures[i]
		if isMFAReason(f.Reason) && ev.Time.Sub(f.Time) <= c.Window && !f.Time.After(ev.Time) {
			n++
			evidence = append(evidence, f.EventID)
		}
	}
	if n < c.MinDenials {
		return finding{}, false
	}
	score := c.Score
	where := "from a network the account never used"
	if u.knows(ev.IP) {
		score, where = min(score, 60), "from a network the account uses"
	}
	return finding{
		rule:     RuleMFAFatigue,
		score:    score,
		evidence: append(evidence, ev.ID),
		reasons:  []string{fmt.Sprintf("%d MFA prompts were denied or ignored within %s, then a sign-in succeeded %s.", n, c.Window, where)},
	}, true
}

// fromNet names an IPv6 address's /64 (" from 2001:db8::/64"), the unit
// of its attack; an IPv4 address is its own.
func fromNet(key netip.Addr) string {
	if key.Is6() {
		return " from " + addrName(key)
	}
	return ""
}

func capStrings(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "…")
	}
	return s
}
