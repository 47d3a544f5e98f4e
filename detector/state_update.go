package detector

import (
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
)

// maxUserWindow is how far back any rule looks at an account's failures.
func (c *Config) maxUserWindow() time.Duration {
	return max(c.BruteForce.Window*2, c.MFAFatigue.Window)
}

// netOf returns the network an address is remembered by: /24 for IPv4 and
// /48 for IPv6, so that a home router's changing address stays known. An
// IPv4 host behind NAT64 is remembered by its IPv4 /24, one behind Teredo
// by its client address (addrKey): their /48 is the translator's, shared
// by every client.
func netOf(ip netip.Addr) netip.Prefix {
	bits := 24
	switch {
	case !ip.Is6(): // the common case first: knows runs several times an event
	case nat64.Contains(ip) || nat64Local.Contains(ip):
		bits = 120
	case teredo.Contains(ip):
		return netip.PrefixFrom(addrKey(ip), 128)
	default:
		bits = 48
	}
	p, _ := ip.Prefix(bits)
	return p
}

// addrKey is the address an address's state is kept under: the address
// itself for IPv4, its /64 for IPv6. A /64 is one host or one subscriber,
// and a host that owns one picks a new address from it at will: an
// attacker guessing from a fresh address each time must still add up to
// one attacker.
//
// Translated IPv4 hosts are keyed by their IPv4 host: NAT64 by the whole
// address (it is the IPv4 address), 6to4 by its /48 (the site of one IPv4
// address), Teredo by its client's (obfuscated) IPv4 address. Link-local
// addresses stay whole: every segment has the same fe80::/64.
func addrKey(ip netip.Addr) netip.Addr {
	if teredo.Contains(ip) {
		b := ip.As16()
		clear(b[4:12]) // the server's address, flags and port
		return netip.AddrFrom16(b)
	}
	p, _ := ip.Prefix(keyBits(ip))
	return p.Addr()
}

// keyBits is how many leading bits of ip its address state is kept under
// (see addrKey): all of them where the address is the host.
func keyBits(ip netip.Addr) int {
	switch {
	case !ip.Is6() || ip.IsLinkLocalUnicast() || nat64.Contains(ip) || nat64Local.Contains(ip) || teredo.Contains(ip):
		return ip.BitLen()
	case sixToFour.Contains(ip):
		return 48
	}
	return 64
}

// addrName is how alerts name the address of key: the address, or the
// IPv6 network it stands for.
func addrName(key netip.Addr) string {
	if bits := keyBits(key); bits < key.BitLen() {
		return netip.PrefixFrom(key, bits).String()
	}
	return key.String()
}

// The IPv6 prefixes that carry IPv4 hosts.
var (
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48")
	teredo     = netip.MustParsePrefix("2001::/32")
	sixToFour  = netip.MustParsePrefix("2002::/16")
)

// knows reports whether the account signed in successfully from ip's network.
func (u *UserState) knows(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	n := netOf(ip)
	for _, k := range u.Known {
		if k.Prefix == n {
			return true
		}
	}
	return false
}

// sessionMemory is how long an unused session id is worth remembering:
// the longest journey on Earth (half its circumference) at the fastest
// travel, plus the allowed lateness. A session used again after that can
// never have moved too fast, so sessionHijack can only update it, and
// forgetting it changes no alert.
func (c *Config) sessionMemory() time.Duration {
	return c.Travel.travelTime(math.Pi*earthRadiusKm) + c.Lateness
}

// forgetStale drops, as of the account's newest event, what no rule can
// use any more: failures older than every window that counts them (plus
// the allowed lateness, so that an event late within it finds what it
// would have found), sessions unused for longer than sessionMemory, and a
// risky sign-in older than risk_memory (plus the lateness).
// Personal data that no rule needs is not kept; on the demo tenant this
// was a fifth of what an account stores.
// k holds the two spans, computed once per Engine (staleAfter): this runs
// for most events.
func (u *UserState) forgetStale(k staleAfter) {
	if len(u.Failures) > 0 {
		u.Failures = dropFront(u.Failures, u.failuresBefore(u.Seen.Add(-k.failures)))
	}
	if len(u.Sessions) > 0 {
		cut := u.Seen.Add(-k.sessions)
		u.Sessions = slices.DeleteFunc(u.Sessions, func(s Session) bool { return s.Last.Before(cut) })
	}
	// The latest risky sign-in (its address and event id) only matters to
	// the mailbox rules within risk_memory.
	if !u.Risk.Time.IsZero() && u.Risk.Time.Before(u.Seen.Add(-k.risk)) {
		u.Risk = RiskySignIn{}
	}
}

// staleAfter is how long forgetStale keeps failures and unused sessions.
type staleAfter struct{ failures, sessions, risk time.Duration }

func (c *Config) staleAfter() staleAfter {
	return staleAfter{failures: c.maxUserWindow() + c.Lateness, sessions: c.sessionMemory(),
		risk: c.SignIn.RiskMemory + c.Lateness}
}

// failedAs reports whether the account holds a failure with event id id
// (never for an empty id).
func (u *UserState) failedAs(id string) bool {
	if id == "" {
		return false
	}
	for i := range u.Failures {
		if u.Failures[i].EventID == id {
			return true
		}
	}
	return false
}

// failuresBefore counts the failures, oldest first, before cut.
func (u *UserState) failuresBefore(cut time.Time) int {
	i := 0
	for i < len(u.Failures) && u.Failures[i].Time.Before(cut) {
		i++
	}
	return i
}

// addFailure records a failed sign-in and forgets failures older than keep.
func (u *UserState) addFailure(ev *enrich.Event, keep time.Duration) {
	i := u.failuresBefore(ev.Time.Add(-keep))
	if len(u.Failures)-i >= maxFailures {
		i++
	}
	u.Failures = dropFront(u.Failures, i)
	u.Failures = append(u.Failures, Failure{
		Time: ev.Time, IP: ev.IP, Reason: ev.Reason,
		Known: ev.Geo.Trusted || u.knows(ev.IP), EventID: ev.ID,
	})
}

// learnLocation remembers where a successful sign-in came from, for
// impossible travel. Trusted networks (VPN egress, often far from the user)
// are not a location of the user.
func (u *UserState) learnLocation(ev *enrich.Event) {
	if ev.Geo.Trusted || !ev.IP.IsValid() || !ev.Geo.HasLoc || ev.Time.Before(u.LastLogin.Time) {
		return
	}
	u.LastLogin = Login{
		Time: ev.Time, IP: ev.IP, Lat: ev.Geo.Lat, Lon: ev.Geo.Lon, RadiusKm: ev.Geo.RadiusKm,
		Country: ev.Geo.Country, City: ev.Geo.City, ASN: ev.Geo.ASN, EventID: ev.ID,
	}
}

// learnNetwork remembers the network of a successful sign-in as one the
// account uses.
func (u *UserState) learnNetwork(ev *enrich.Event) {
	if ev.Geo.Trusted || !ev.IP.IsValid() {
		return
	}
	n := netOf(ev.IP)
	for i := range u.Known {
		if u.Known[i].Prefix == n {
			if ev.Time.After(u.Known[i].Last) {
				u.Known[i].Last = ev.Time
			}
			return
		}
	}
	if len(u.Known) >= maxKnownNets {
		oldest := 0
		for i := range u.Known {
			if u.Known[i].Last.Before(u.Known[oldest].Last) {
				oldest = i
			}
		}
		u.Known = slices.Delete(u.Known, oldest, oldest+1)
	}
	u.Known = append(u.Known, KnownNet{Prefix: n, Last: ev.Time})
}

// addAttempt records a sign-in attempt from the address and forgets
// accounts whose last attempt is older than window, but for hits (HitAt)
// while the address is marked as attacking: the attacker may come back
// with the password later, from the network the hit taught the account.
// hit says the attempt is a success that would be an attack's hit. It
// returns the account's entry.
func (a *AddrState) addAttempt(ev *enrich.Event, success, hit bool, window time.Duration) *AddrUser {
	cut := ev.Time.Add(-window)
	marked := ev.Time.Before(a.AttackUntil)
	// One pass forgets the accounts last seen before cut and finds the
	// event's among the others: an address under attack holds hundreds,
	// and this runs for each of its events.
	var au *AddrUser
	kept := 0
	for i := range a.Users {
		x := &a.Users[i]
		if x.Last.Before(cut) && (x.HitAt.IsZero() || !marked) {
			continue
		}
		if kept != i {
			a.Users[kept] = *x
		}
		if au == nil && a.Users[kept].User == ev.User {
			au = &a.Users[kept]
		}
		kept++
	}
	clear(a.Users[kept:])
	a.Users = a.Users[:kept]
	if au == nil {
		if len(a.Users) >= maxAddrUsers {
			a.Users = dropFront(a.Users, 1)
		}
		a.Users = append(a.Users, AddrUser{User: ev.User})
		au = &a.Users[len(a.Users)-1]
	}
	if ev.Time.After(au.Last) {
		au.Last = ev.Time
	}
	switch {
	case success && hit:
		au.Successes++
		au.HitAt, au.Raised = ev.Time, false
		au.EventID = ev.ID
	case success:
		au.Successes++
		if !marked && ev.Time.Sub(au.HitAt) >= window {
			// The account's own sign-in from here, no attack going on,
			// and its hit too old to be an earlier hit: that no longer
			// taints its own network. (A younger one stays: the attacker
			// signing in again before the attack is found must not
			// erase it; while an attack goes on, the sign-in may be the
			// attacker's, who learned the network with the hit.)
			au.HitAt, au.Raised = time.Time{}, false
		}
	default:
		au.Failures++
		if ev.Reason == ingest.ReasonUnknownUser {
			au.Unknown = true
		}
	}
	if ev.ID != "" && au.HitAt.IsZero() {
		au.EventID = ev.ID
	}
	return au
}

// dropFront removes the first n elements in place, keeping the slice's
// capacity: these lists are trimmed on nearly every event, and re-slicing
// the front away would make every later append reallocate.
func dropFront[T any](s []T, n int) []T {
	if n <= 0 {
		return s
	}
	k := copy(s, s[n:])
	clear(s[k:])
	return s[:k]
}

// learning reports whether the account is still learning for the sign-in
// risk rule: fewer than learning_logins successful sign-ins, or none yet
// from a place with a country (detection.md, "Learning"). Brute-force
// compromise and distributed spray count sign-ins only, on purpose: an
// account whose sign-ins all come from internal networks has no country
// and would never leave this period (TestCompromiseAfterInternalSignIns).
func (u *UserState) learning(c *SignInConfig) bool {
	return u.Logins < c.LearningLogins || len(u.Countries) == 0
}
