// Package score measures alerts against a synthetic tenant's labels: which
// attacks were seen, how fast compromised accounts were revoked, and how
// much benign activity raised alerts, per 1,000 user-days so tenants of any
// size compare. It scores atod and the naive rule pack alike.
package score

import (
	"slices"
	"strings"
	"time"

	"github.com/atod-project/atod/cmd/atogen/label"
	"github.com/atod-project/atod/detector"
)

// Targets atod must meet; -check fails on any miss.
const (
	RevokeWithin         = 10 * time.Minute
	MaxMedianDelay       = time.Minute
	MaxBenignRevokes     = 0.5 // entity-days per 1,000 user-days
	MaxBenignAlerts      = 10  // entity-days per 1,000 user-days
	windowBefore         = time.Hour
	windowAfter          = 24 * time.Hour
	noNoise              = "none"
	addressWithoutEvents = "address"
)

// Input is what a report is computed from. AddrUsers (address → users who
// signed in from it) is optional; with it, alerts about an address alone are
// attributed to the noise of the users behind it.
type Input struct {
	Labels    *label.Set
	Alerts    []detector.Alert
	AddrUsers map[string][]string
}

// attackIndex is one attack prepared for matching.
type attackIndex struct {
	label.Attack
	from, to time.Time
	users    map[string]bool
	ips      map[string]bool
}

func index(a label.Attack) *attackIndex {
	x := &attackIndex{Attack: a, from: a.Start.Add(-windowBefore), to: a.End.Add(windowAfter),
		users: map[string]bool{}, ips: map[string]bool{}}
	for _, u := range a.Users {
		x.users[strings.ToLower(u)] = true
	}
	for _, c := range a.Compromised {
		x.users[strings.ToLower(c.User)] = true
	}
	for _, ip := range a.IPs {
		x.ips[ip] = true
	}
	return x
}

func (x *attackIndex) inWindow(a *detector.Alert) bool {
	return !a.Time.Before(x.from) && !a.Time.After(x.to)
}

// names reports whether the alert names one of the attack's accounts or
// addresses, in or out of its window.
func (x *attackIndex) names(a *detector.Alert) bool {
	if x.ips[a.IP] || x.users[strings.ToLower(a.User)] {
		return true
	}
	for _, u := range a.Users {
		if x.users[strings.ToLower(u)] {
			return true
		}
	}
	return false
}

// explains reports whether the alert is about this attack: its address is
// the attacker's, or its account a victim's, within the attack's window. An
// alert about an address is judged by the address, not by the accounts that
// failed there.
func (x *attackIndex) explains(a *detector.Alert) bool {
	if !x.inWindow(a) {
		return false
	}
	switch {
	case x.ips[a.IP]:
		return true
	case a.User != "":
		return x.users[strings.ToLower(a.User)]
	case a.IP == "":
		return x.names(a)
	}
	return false
}

// Compute scores the alerts against the labels.
func Compute(in *Input) *Report {
	r := &Report{Alerts: len(in.Alerts)}
	if t := in.Labels.Tenant; t != nil {
		r.Users, r.Days, r.UserDays = t.Users, t.Days, t.Users*t.Days
	}
	attacks := make([]*attackIndex, len(in.Labels.Attacks))
	for i, a := range in.Labels.Attacks {
		attacks[i] = index(a)
	}
	r.attacksSeen(attacks, in.Alerts)
	r.revocations(attacks, in.Alerts)
	r.benign(attacks, in)
	r.check()
	return r
}

func (r *Report) attacksSeen(attacks []*attackIndex, alerts []detector.Alert) {
	kinds := map[string]*KindResult{}
	for _, x := range attacks {
		res := AttackResult{ID: x.ID, Kind: x.Attack.Attack, Rules: []string{}}
		for i := range alerts {
			a := &alerts[i]
			if !x.inWindow(a) || !x.names(a) {
				continue
			}
			if !res.Seen || a.Time.Before(res.FirstAlert) {
				res.FirstAlert = a.Time
			}
			res.Seen = true
			if !slices.Contains(res.Rules, a.Rule) {
				res.Rules = append(res.Rules, a.Rule)
			}
		}
		slices.Sort(res.Rules)
		r.Attacks = append(r.Attacks, res)
		k := kinds[res.Kind]
		if k == nil {
			k = &KindResult{Kind: res.Kind}
			kinds[res.Kind] = k
		}
		k.Total++
		if res.Seen {
			k.Seen++
			r.Seen++
		}
	}
	for _, name := range kindOrder(kinds) {
		r.ByKind = append(r.ByKind, *kinds[name])
	}
}

// kindOrder lists the known kinds first, in label order, then any others.
func kindOrder(kinds map[string]*KindResult) []string {
	var out []string
	for _, k := range label.AttackKinds {
		if kinds[k] != nil {
			out = append(out, k)
		}
	}
	var rest []string
	for k := range kinds {
		if !slices.Contains(label.AttackKinds, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// revocations finds, for each compromised account, the first revoke_sessions
// alert for it at or after the first malicious success.
func (r *Report) revocations(attacks []*attackIndex, alerts []detector.Alert) {
	var delays []time.Duration
	for _, x := range attacks {
		for _, c := range x.Compromised {
			acc := AccountResult{Attack: x.ID, Kind: x.Attack.Attack, User: c.User, FirstSuccess: c.FirstSuccess}
			for i := range alerts {
				a := &alerts[i]
				if a.Action != detector.ActionRevoke || !alertNames(a, c.User) ||
					a.Time.Before(c.FirstSuccess) || a.Time.After(x.to) {
					continue
				}
				if d := a.Time.Sub(c.FirstSuccess); acc.RevokedAt.IsZero() || d < acc.Delay.Duration() {
					acc.RevokedAt, acc.Delay = a.Time, Seconds(d.Seconds())
				}
			}
			acc.Revoked = !acc.RevokedAt.IsZero() && acc.Delay.Duration() <= RevokeWithin
			if acc.Revoked {
				r.Revoked++
				delays = append(delays, acc.Delay.Duration())
			}
			r.Accounts = append(r.Accounts, acc)
		}
	}
	r.Compromised = len(r.Accounts)
	if len(delays) > 0 {
		slices.Sort(delays)
		r.MedianDelay = Seconds(median(delays).Seconds())
		r.MaxDelay = Seconds(delays[len(delays)-1].Seconds())
	}
}

func median(ds []time.Duration) time.Duration {
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return (ds[n/2-1] + ds[n/2]) / 2
}

func alertNames(a *detector.Alert, user string) bool {
	if strings.EqualFold(a.User, user) {
		return true
	}
	for _, u := range a.Users {
		if strings.EqualFold(u, user) {
			return true
		}
	}
	return false
}
