package detector

import (
	"fmt"
	"math"
	"time"

	"github.com/atod-project/atod/enrich"
)

const earthRadiusKm = 6371.0

// greatCircleKm is the haversine distance between two points.
func greatCircleKm(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(h)))
}

// impossibleTravel compares a successful sign-in with the account's previous
// one. GeoIP places an address somewhere within an accuracy radius, so the
// distance that counts is the great-circle distance minus both radii: two
// mobile-carrier addresses with 1000 km radii are never impossible.
func (e *Engine) impossibleTravel(ev *enrich.Event, u *UserState) (finding, bool) {
	c := &e.cfg.Travel
	prev := &u.LastLogin
	if !c.Enabled || prev.Time.IsZero() || !ev.Geo.HasLoc || ev.Geo.Trusted || prev.IP == ev.IP {
		return finding{}, false
	}
	// A network the account signs in from without alerts is one of its
	// habits (a second office, a VPN not listed as trusted): no travel.
	if countryLevel(prev.City, prev.Country, ev.Geo.City, ev.Geo.Country) || u.knows(ev.IP) {
		return finding{}, false
	}
	dist := greatCircleKm(prev.Lat, prev.Lon, ev.Geo.Lat, ev.Geo.Lon)
	minDist := dist - float64(prev.RadiusKm) - float64(ev.Geo.RadiusKm)
	if minDist < c.MinDistanceKm {
		return finding{}, false
	}
	gap := ev.Time.Sub(prev.Time).Abs()
	if !c.tooFast(minDist, gap) {
		return finding{}, false
	}
	speed := math.Inf(1)
	if gap > 0 {
		speed = minDist / gap.Hours()
	}
	score := c.Score
	if ev.Geo.Country != prev.Country {
		score += 5
	}
	if ev.Geo.ASN != prev.ASN {
		score += 5
	}
	speedText := "at the same moment"
	if !math.IsInf(speed, 1) {
		speedText = fmt.Sprintf("at least %.0f km/h", speed)
	}
	return finding{
		rule:     RuleImpossibleTravel,
		score:    min(score, 100),
		evidence: []string{prev.EventID, ev.ID},
		reasons: []string{fmt.Sprintf("Signed in from %s, %.0f km from the previous sign-in in %s %s earlier: %s after allowing for GeoIP accuracy of %d km and %d km, while the trip takes at least %s by air.",
			place(ev.Geo.City, ev.Geo.Country), dist, place(prev.City, prev.Country), roundGap(gap),
			speedText, prev.RadiusKm, ev.Geo.RadiusKm, c.travelTime(minDist).Round(time.Minute))},
	}, true
}

func place(city, country string) string {
	switch {
	case city == "" && country == "":
		return "an unknown place"
	case city == "":
		return country
	default:
		return city + ", " + country
	}
}

func roundGap(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}

// travelTime is the least time a traveller needs for distKm.
func (c *TravelConfig) travelTime(distKm float64) time.Duration {
	return time.Duration(distKm/c.MaxSpeedKmh*float64(time.Hour)) + c.Overhead
}

// tooFast reports whether distKm (accuracy radii already subtracted) in gap
// is beyond any traveller.
func (c *TravelConfig) tooFast(distKm float64, gap time.Duration) bool {
	return distKm >= c.MinDistanceKm && gap < c.travelTime(distKm)
}

// countryLevel reports two places in one country of which at least one is
// known only to the country (mobile carriers): GeoIP puts those at the
// country's centre, which says nothing about where in the country they are.
func countryLevel(city1, country1, city2, country2 string) bool {
	return country1 == country2 && (city1 == "" || city2 == "")
}
