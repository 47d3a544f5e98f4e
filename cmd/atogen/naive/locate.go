package naive

import (
	"math"
	"net/netip"

	"github.com/atod-project/atod/enrich/geotest"
)

// Place is where the naive pack thinks an address is: the coordinates of
// its geotest place, taken at face value with no accuracy radius, as a SIEM
// rule that reads only latitude and longitude does.
type Place struct {
	Name     string
	Lat, Lon float64
}

// Locator maps addresses to the places of geotest.World.
type Locator struct {
	prefixes []netip.Prefix
	places   []Place
}

// NewLocator indexes every network of geotest.World.
func NewLocator() *Locator {
	l := &Locator{}
	for _, p := range geotest.World {
		for _, n := range p.Networks {
			l.prefixes = append(l.prefixes, netip.MustParsePrefix(n))
			l.places = append(l.places, Place{Name: p.Name, Lat: p.Lat, Lon: p.Lon})
		}
	}
	return l
}

// Locate returns the place of ip, false for an address outside the world.
func (l *Locator) Locate(ip netip.Addr) (Place, bool) {
	ip = ip.Unmap()
	for i, p := range l.prefixes {
		if p.Contains(ip) {
			return l.places[i], true
		}
	}
	return Place{}, false
}

// GreatCircleKm is the distance between two points on a spherical earth.
func GreatCircleKm(lat1, lon1, lat2, lon2 float64) float64 {
	const earthKm = 6371.0
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthKm * math.Asin(math.Sqrt(math.Min(1, a)))
}
