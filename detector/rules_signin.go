package detector

import (
	"fmt"
	"slices"

	"github.com/atod-project/atod/enrich"
)

// Rule names of the sign-in risk.
const (
	RuleNewLocation = "new_location"
	RuleAnonymizer  = "anonymizer_signin"
)

// riskySignInScore is the sign-in risk from which mailbox activity that
// follows is judged in its light, even when the sign-in itself raised no
// alert.
const riskySignInScore = 40

// signInRisk weighs what is new about a successful sign-in against the
// account's habits: country, network, client, distance and anonymizers. One
// unusual thing is a traveller; several together are a stranger.
func (e *Engine) signInRisk(ev *enrich.Event, u, org *UserState) (finding, bool) {
	c := &e.cfg.SignIn
	if !c.Enabled || ev.Geo.Trusted || !ev.IP.IsValid() || isInternal(ev.Geo.Kind) {
		return finding{}, false
	}
	// Nearly every sign-in is ordinary, and a finding below the alert
	// score is only a signal: weigh first, and put the reasons into words
	// only for a sign-in that may raise an alert.
	f := e.weighSignIn(ev, u, org, false)
	if f.score >= e.cfg.Policy.AlertScore {
		f = e.weighSignIn(ev, u, org, true)
	}
	if f.score >= riskySignInScore {
		u.Risk = RiskySignIn{Time: ev.Time, Score: f.score, IP: ev.IP, Session: sessionHash(ev.SessionID), EventID: ev.ID}
	}
	return f, f.score > 0
}

// weighSignIn scores a sign-in for signInRisk, with the reasons and the
// evidence when explain is set; it changes no state.
func (e *Engine) weighSignIn(ev *enrich.Event, u, org *UserState, explain bool) finding {
	c := &e.cfg.SignIn
	w := &c.Weights
	// Until an account has signed in enough, and from somewhere outside
	// trusted networks, "new" says little about it.
	learning := u.learning(c)
	f := finding{rule: RuleNewLocation}
	if explain {
		f.evidence = []string{ev.ID}
	}
	// add counts points; reason is "" unless explain is set.
	add := func(points int, reason string) {
		f.score += points
		if explain {
			f.reasons = append(f.reasons, reason)
		}
	}
	var reason string
	if ev.Geo.Country != "" && !hasHabit(u.Countries, ev.Geo.Country, 0) {
		if learning {
			if explain {
				reason = fmt.Sprintf("First sign-in from %s while the account's habits are still being learned.", ev.Geo.Country)
			}
			add(w.NewCountryLearning, reason)
		} else {
			if explain {
				reason = fmt.Sprintf("First sign-in from %s; the account signs in from %s.", ev.Geo.Country, habitKeys(u.Countries))
			}
			add(w.NewCountry, reason)
		}
		if rareForOrg(org, ev.Geo.Country, ev.Time, c.OrgLearning) {
			// While the account is learning, the organisation is all there
			// is to compare with.
			points := w.RareCountry
			if learning {
				points = w.RareCountryLearning
			}
			if explain {
				reason = fmt.Sprintf("Only %d of the organisation's %d accounts sign in from %s.",
					orgCountryUsers(org, ev.Geo.Country), org.Logins, ev.Geo.Country)
			}
			add(points, reason)
		}
	}
	if ev.Geo.ASN != 0 && !hasHabit(u.ASNs, "", uint64(ev.Geo.ASN)) {
		points := w.NewASN
		if learning {
			points = w.NewASNLearning
		}
		if explain {
			reason = fmt.Sprintf("First sign-in through network AS%d (%s).", ev.Geo.ASN, ev.Geo.Org)
		}
		add(points, reason)
	}
	if kind, points := e.anonymizer(ev); points > 0 {
		if explain {
			reason = fmt.Sprintf("The address belongs to a %s, which hides where the user is.", kind)
		}
		add(points, reason)
		f.rule = RuleAnonymizer
	}
	if prev := &u.LastLogin; !learning && !prev.Time.IsZero() && ev.Geo.HasLoc {
		d := greatCircleKm(prev.Lat, prev.Lon, ev.Geo.Lat, ev.Geo.Lon) - float64(prev.RadiusKm+ev.Geo.RadiusKm)
		if d > w.FarKm {
			if explain {
				reason = fmt.Sprintf("%.0f km from the previous sign-in in %s.", d, place(prev.City, prev.Country))
			}
			add(w.Far, reason)
		}
	}
	switch {
	case ev.DeviceID != "" && hasHabit(u.Clients, "d", clientHash("d", ev.DeviceID)):
		add(-w.KnownDevice, "From a device the account uses.")
	case ev.UserAgent != "" && hasHabit(u.Clients, "a", e.agents.of(ev.UserAgent)):
		add(-w.KnownAgent, "From client software the account uses.")
	case ev.DeviceID == "" && hasHabitKind(u.Clients, "d"):
		add(w.UnfamiliarClient, "From a client without a device id, while the account's own devices have one.")
	case ev.DeviceID == "" && ev.UserAgent == "":
		// The source says nothing about the client: no evidence either way.
	case learning:
		add(w.UnfamiliarClient*2/3, "From a device and client software not seen yet for this account.")
	default:
		add(w.UnfamiliarClient, "From a device and client software the account has not used.")
	}
	if isLegacy(ev.Protocol) && !hasHabit(u.ASNs, "", uint64(ev.Geo.ASN)) {
		if explain {
			reason = fmt.Sprintf("Over %s, a protocol without MFA, from a new network.", ev.Protocol)
		}
		add(w.LegacyProtocol, reason)
	}
	f.score = min(max(f.score, 0), 100)
	return f
}

// anonymizer says what kind of anonymizer the address is, and its weight.
func (e *Engine) anonymizer(ev *enrich.Event) (string, int) {
	w := &e.cfg.SignIn.Weights
	switch ev.Geo.Anonymous {
	case enrich.AnonymousTor:
		return "Tor exit node", w.Tor
	case enrich.AnonymousHosting:
		return "hosting provider", w.Hosting
	case enrich.AnonymousVPN:
		return "commercial VPN", w.VPN
	case enrich.AnonymousProxy, enrich.AnonymousResidentialProxy:
		return "proxy", w.Proxy
	}
	if ev.Geo.ASN != 0 && slices.Contains(e.cfg.SignIn.AnonymizerASNs, ev.Geo.ASN) {
		return "hosting or VPN network", w.Hosting
	}
	return "", 0
}

// learnHabits adds a successful sign-in to the account's habits and the
// organisation's. The caller skips sign-ins that raised an alert: the
// attacker's country must not become the account's.
//
// A sign-in from a trusted network teaches the account's devices and counts
// towards its learning period, but not its places: VPN egress is not where
// the user is.
func (e *Engine) learnHabits(ev *enrich.Event, u *UserState) {
	first := u.Logins == 0
	if first {
		u.FirstSeen = ev.Time
	}
	u.Logins = min(u.Logins+1, maxLogins)
	newCountry := ""
	if !ev.Geo.Trusted && ev.Geo.Country != "" {
		if !hasHabit(u.Countries, ev.Geo.Country, 0) {
			newCountry = ev.Geo.Country
		}
		u.Countries = touchHabit(u.Countries, Habit{Key: ev.Geo.Country, Last: ev.Time})
	}
	if learnOrg(e.org, ev.Time, first, newCountry) {
		e.orgDirty[e.org] = true
	}
	if !ev.Geo.Trusted && ev.Geo.ASN != 0 {
		u.ASNs = touchHabit(u.ASNs, Habit{Num: uint64(ev.Geo.ASN), Last: ev.Time})
	}
	if ev.DeviceID != "" {
		u.Clients = touchHabit(u.Clients, Habit{Key: "d", Num: clientHash("d", ev.DeviceID), Last: ev.Time})
	}
	if ev.UserAgent != "" {
		u.Clients = touchHabit(u.Clients, Habit{Key: "a", Num: e.agents.of(ev.UserAgent), Last: ev.Time})
	}
}

func hasHabitKind(hs []Habit, key string) bool {
	return slices.ContainsFunc(hs, func(h Habit) bool { return h.Key == key })
}

func hasHabit(hs []Habit, key string, num uint64) bool {
	for i := range hs {
		if hs[i].Key == key && hs[i].Num == num {
			return true
		}
	}
	return false
}

// touchHabit refreshes h in hs or adds it, evicting the least recent habit
// when full.
func touchHabit(hs []Habit, h Habit) []Habit {
	for i := range hs {
		if hs[i].Key == h.Key && hs[i].Num == h.Num {
			if h.Last.After(hs[i].Last) {
				hs[i].Last = h.Last
			}
			return hs
		}
	}
	if len(hs) >= maxHabits {
		oldest := 0
		for i := range hs {
			if hs[i].Last.Before(hs[oldest].Last) {
				oldest = i
			}
		}
		hs = slices.Delete(hs, oldest, oldest+1)
	}
	return append(hs, h)
}

func habitKeys(hs []Habit) string {
	keys := make([]string, 0, len(hs))
	for _, h := range hs {
		keys = append(keys, h.Key)
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		return "nowhere yet"
	}
	return fmt.Sprint(keys)
}

// clientHash keeps device ids and user agents as hashes: enough to
// recognise them, nothing to read back.
// The hash is 64-bit FNV-1a of kind, a NUL byte and s, written out here
// because hash/fnv's interface and copies cost more than the hashing on
// the detector's goroutine; the values are stored, so they must not change.
func clientHash(kind, s string) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for i := 0; i < len(kind); i++ {
		h = (h ^ uint64(kind[i])) * prime
	}
	h *= prime // the NUL byte
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * prime
	}
	return h
}

func sessionHash(id string) uint64 {
	if id == "" {
		return 0
	}
	return clientHash("s", id)
}

// isLegacy reports protocols that sign in with a bare password.
func isLegacy(p string) bool { return p == "imap" || p == "pop3" || p == "smtp" }

func isInternal(k enrich.Kind) bool { return k == enrich.KindPrivate || k == enrich.KindLoopback }
