package detector

import (
	"fmt"
	"slices"

	"github.com/atod-project/atod/enrich"
)

// RuleSessionHijack names a session used from two places at once.
const RuleSessionHijack = "session_hijack"

// sessionHijack follows each session id an account uses. A stolen session
// cookie replayed elsewhere shows as the same id used from a place no
// traveller could have reached since its last use, with no sign-in of its
// own there. A session that moves at travel speed (a laptop on a plane)
// simply follows its user.
func (e *Engine) sessionHijack(ev *enrich.Event, u *UserState) (finding, bool) {
	if !e.cfg.Session.Enabled || ev.SessionID == "" || !ev.IP.IsValid() || ev.Geo.Trusted {
		return finding{}, false
	}
	h := sessionHash(ev.SessionID)
	i := slices.IndexFunc(u.Sessions, func(s Session) bool { return s.Hash == h })
	here := Session{Hash: h, Last: ev.Time, Lat: ev.Geo.Lat, Lon: ev.Geo.Lon, RadiusKm: ev.Geo.RadiusKm,
		HasLoc: ev.Geo.HasLoc, Country: ev.Geo.Country, ASN: ev.Geo.ASN, IP: ev.IP, EventID: ev.ID}
	if i < 0 {
		// The list grows as append grows it: most accounts use a session
		// or two, and a list made for maxSessions up front would be most of
		// the account's memory.
		if len(u.Sessions) >= maxSessions {
			u.Sessions = dropFront(u.Sessions, 1)
		}
		u.Sessions = append(u.Sessions, here)
		return finding{}, false
	}
	s := &u.Sessions[i]
	if s.IP == ev.IP || !s.HasLoc || !ev.Geo.HasLoc {
		if !ev.Time.Before(s.Last) {
			*s = here
		}
		return finding{}, false
	}
	dist := greatCircleKm(s.Lat, s.Lon, ev.Geo.Lat, ev.Geo.Lon)
	minDist := dist - float64(s.RadiusKm+ev.Geo.RadiusKm)
	gap := ev.Time.Sub(s.Last).Abs()
	if !e.cfg.Travel.tooFast(minDist, gap) {
		if !ev.Time.Before(s.Last) {
			*s = here
		}
		return finding{}, false
	}
	// The session keeps its first place: every further use from the
	// stranger's place is the same incident.
	return finding{
		rule:     RuleSessionHijack,
		score:    e.cfg.Session.Score,
		evidence: []string{s.EventID, ev.ID},
		reasons: []string{fmt.Sprintf("Session used from %s (%s) %s after it was used from %s, %.0f km away: nobody travels that fast, so the session token was stolen and replayed.",
			place(ev.Geo.City, ev.Geo.Country), ev.IP, roundGap(gap), place("", s.Country), dist)},
	}, true
}
