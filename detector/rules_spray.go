package detector

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
)

// SprayAttempt is one failed sign-in that counts towards a distributed
// password spray: kept in the organisation's state only.
type SprayAttempt struct {
	Time    time.Time
	User    string `store:"account"` // sealed by a pseudonymising store
	IP      netip.Addr
	EventID string
}

// maxSprayAttempts bounds the organisation's spray memory.
const maxSprayAttempts = 512

// distributedSpray finds low-and-slow spraying: many addresses, each trying
// a few accounts over hours (too few for any one address to stand out),
// about one attempt per account. It counts, across the organisation,
// failures from addresses the account never used, from accounts past their
// learning period (a new colleague's first failures are not an attack) or
// that do not exist.
//
// Addresses already caught attacking on their own (a) are left out: the
// address rules have them, and this rule is for the ones that stay below.
func (e *Engine) distributedSpray(ev *enrich.Event, u, org *UserState, a *AddrState, f *Failure) (finding, bool) {
	c := &e.cfg.Spray
	if !c.Enabled || f.Known || ev.Geo.Trusted || isMFAReason(ev.Reason) || (a != nil && ev.Time.Before(a.AttackUntil)) ||
		(ev.Reason != ingest.ReasonUnknownUser && u.Logins < e.cfg.SignIn.LearningLogins) {
		return finding{}, false
	}
	now := e.capped(ev.Time) // an early event must not age out the others' attempts
	cut := now.Add(-c.Window)
	org.Sprays = slices.DeleteFunc(org.Sprays, func(s SprayAttempt) bool { return s.Time.Before(cut) })
	if len(org.Sprays) >= maxSprayAttempts {
		org.Sprays = dropFront(org.Sprays, 1)
	}
	org.Sprays = append(org.Sprays, SprayAttempt{Time: ev.Time, User: ev.User, IP: ev.IP, EventID: ev.ID})
	org.Seen = now
	e.orgDirty[org] = true

	accounts, addrs := e.scratchUsers, e.scratchAddrs
	clear(accounts)
	clear(addrs)
	for _, s := range org.Sprays {
		accounts[s.User]++
	}
	// A spray tries each account once or twice. An account tried more
	// often is someone's old password on a phone, or a brute force (the
	// account rules' business): it is left out, rather than let it hide
	// the spray, as it did when the rule took the organisation's average.
	sprayed, attempts := 0, 0
	for user, n := range accounts {
		if e.sprayed(accounts, user) {
			sprayed++
			attempts += n
		}
	}
	if sprayed < c.MinAccounts {
		return finding{}, false
	}
	for _, s := range org.Sprays {
		if e.sprayed(accounts, s.User) {
			addrs[addrKey(s.IP)]++
		}
	}
	if len(addrs) < c.MinAddresses {
		return finding{}, false
	}
	if openIncident(&org.Incidents, RulePasswordSpray, ev, e.cfg.IncidentGap.Nanoseconds()) != nil {
		// Only extends the open incident: no need to build its alert.
		return finding{rule: RulePasswordSpray, onOrg: true, score: c.Score}, true
	}
	fd := finding{
		rule:  RulePasswordSpray,
		onOrg: true,
		score: c.Score,
		reasons: []string{fmt.Sprintf("%d accounts failed to sign in within %s from %d addresses none of them had used, about %.1f attempts per account: a distributed password spray.",
			sprayed, c.Window, len(addrs), float64(attempts)/float64(sprayed))},
	}
	for _, s := range org.Sprays {
		if !e.sprayed(accounts, s.User) {
			continue
		}
		if len(fd.users) < maxAlertUser && !slices.Contains(fd.users, s.User) {
			fd.users = append(fd.users, s.User)
		}
		fd.evidence = append(fd.evidence, s.EventID)
	}
	slices.Sort(fd.users)
	busiest := slices.SortedFunc(maps.Keys(addrs), func(x, y netip.Addr) int {
		if addrs[x] != addrs[y] {
			return addrs[y] - addrs[x]
		}
		return x.Compare(y)
	})
	names := make([]string, 0, 5)
	for _, ip := range busiest[:min(5, len(busiest))] {
		names = append(names, fmt.Sprintf("%s (%d)", addrName(ip), addrs[ip]))
	}
	fd.reasons = append(fd.reasons, "Busiest addresses: "+strings.Join(names, ", ")+".")
	return fd, true
}

// sprayed reports whether the account's attempts (counted in accounts)
// are few enough to be a spray's.
func (e *Engine) sprayed(accounts map[string]int, user string) bool {
	return float64(accounts[user]) <= e.cfg.Spray.MaxAttemptsPerAccount
}

// sprayedFrom reports whether ip (its /64 for IPv6, see addrKey) took
// part in the organisation's recent spraying against accounts other than
// user: a success of user's from it is the spray's hit. The account's own
// failures do not count: a user who mistypes a password once from a new
// home address and then signs in was revoked while a spray went on
// elsewhere.
func sprayedFrom(org *UserState, ip netip.Addr, user string, now time.Time, window time.Duration) bool {
	key := addrKey(ip)
	return slices.ContainsFunc(org.Sprays, func(s SprayAttempt) bool {
		return addrKey(s.IP) == key && s.User != user && now.Sub(s.Time) <= window
	})
}
