package synth

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/atod-project/atod/enrich/geotest"
)

// office says where a user's workplace traffic egresses.
type office int

const (
	officeNone   office = iota // works from home
	officeCorpDE               // hospital group network, egress in Frankfurt
	officeCorpUS               // US subsidiary network
	officeClinic               // a clinic whose staff share one NAT address
)

// device is one client a user signs in with; its id and agent never change.
type device struct {
	id, agent, protocol string
	login               string // the user name as the device sends it
}

// trip is a journey by plane: the user is in the air between leave and
// arrive and between back and home, and abroad in between.
type trip struct {
	leave, arrive, back, home time.Time
	dest                      geotest.Place
	hotel                     netip.Addr
	tz                        float64
	roaming                   bool // the phone stays on its home carrier abroad
}

// window is a span of time with the address and device it concerns.
type window struct {
	day      int
	from, to time.Time
	ip       netip.Addr
	dev      *device
}

type user struct {
	name       string // canonical lower-case address
	home       geotest.Place
	homeAddr   netip.Addr
	tz         float64 // hours east of UTC, fixed: March before DST is close enough
	country    string
	office     office
	officeProb float64 // chance of a workday at the office
	laptop     device
	phone      *device
	carrier    *geotest.Place // mobile network when the phone is not on wifi
	noise      []string
	trip       *trip
	corpVPN    bool // egress alternates between both corporate networks
	poller     *device
	stale      *window // an old password keeps failing here
	forgotDay  int     // day of a forgotten password, or -1
	forwardDay int     // day the user forwards mail to a private address, or -1
	victim     bool
	clinicAddr netip.Addr
}

// Time zones of the places users live in or travel to.
var placeTZ = map[string]float64{
	"berlin": 1, "hamburg": 1, "munich": 1, "vienna": 1, "zurich": 1, "paris": 1,
	"london": 0, "mallorca": 1, "new-york": -5, "san-francisco": -8, "singapore": 8,
}

// makeUsers creates the population: most in Germany, some elsewhere in
// Europe, a US subsidiary.
func (g *gen) makeUsers() {
	combos := g.rng.Perm(len(firstNames) * len(lastNames))
	for i := range g.cfg.Users {
		c := combos[i%len(combos)]
		first, last := firstNames[c%len(firstNames)], lastNames[c/len(firstNames)]
		local := first + "." + last
		if round := i / len(combos); round > 0 {
			local += strconv.Itoa(round + 1)
		}
		u := &user{name: local + "@" + Domain, forgotDay: -1, forwardDay: -1}
		switch r := g.rng.Float64(); {
		case r < 0.80:
			u.home = geotest.ByName(pickWeighted(g, []string{"berlin", "hamburg", "munich"}, []float64{0.4, 0.3, 0.3}))
			if g.chance(0.75) {
				u.office, u.officeProb = officeCorpDE, 0.5+0.4*g.rng.Float64()
			}
		case r < 0.87:
			u.home = geotest.ByName(pick(g, []string{"vienna", "zurich", "paris", "london"}))
			u.office, u.officeProb = officeCorpDE, 0.3 // remote-access VPN egresses in Frankfurt
		default:
			u.home = geotest.ByName(pickWeighted(g, []string{"new-york", "san-francisco"}, []float64{0.6, 0.4}))
			if g.chance(0.7) {
				u.office, u.officeProb = officeCorpUS, 0.5+0.4*g.rng.Float64()
			}
		}
		u.country, u.tz = u.home.Country, placeTZ[u.home.Name]
		u.homeAddr = g.homeAddr(u.home)
		u.laptop = g.device(u, pick(g, laptopAgents), "web")
		if g.chance(0.85) {
			d := g.device(u, pick(g, phoneAgents), "activesync")
			u.phone = &d
		}
		g.users = append(g.users, u)
	}
}

// device makes a client; a few send the user name in mixed case, as typed.
func (g *gen) device(u *user, agent, protocol string) device {
	d := device{id: "d-" + g.hex(12), agent: agent, protocol: protocol, login: u.name}
	if g.chance(0.04) {
		d.login = mixedCase(u.name, g.chance(0.3))
	}
	return d
}

// mixedCase capitalises the name parts, or shouts the local part.
func mixedCase(name string, shout bool) string {
	local, domain, _ := strings.Cut(name, "@")
	if shout {
		return strings.ToUpper(local) + "@" + domain
	}
	parts := strings.Split(local, ".")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, ".") + "@" + domain
}

func pickWeighted(g *gen, xs []string, w []float64) string {
	r := g.rng.Float64()
	for i, x := range xs {
		if r < w[i] {
			return x
		}
		r -= w[i]
	}
	return xs[len(xs)-1]
}

// alloc returns a fresh address of a place's network: homes, hotels and
// the clinic take them in sequence, so no two share one by accident.
func (g *gen) alloc(p geotest.Place, network int) netip.Addr {
	key := p.Name + "/" + strconv.Itoa(network)
	n, ok := g.next[key]
	if !ok {
		n = 100 + g.rng.IntN(5000)
	}
	for {
		a := p.AddrIn(network, n)
		n += 1 + g.rng.IntN(7)
		if !g.used[a] {
			g.next[key], g.used[a] = n, true
			return a
		}
	}
}

// scatter returns an unused address anywhere in a place's network, so
// unrelated attackers do not line up in one /24.
func (g *gen) scatter(p geotest.Place, network int) netip.Addr {
	for {
		if a := p.AddrIn(network, g.rng.IntN(1<<24)); !g.used[a] {
			g.used[a] = true
			return a
		}
	}
}

// homeAddr is a residential address; some Berlin lines are IPv6.
func (g *gen) homeAddr(p geotest.Place) netip.Addr {
	if len(p.Networks) > 1 && g.chance(0.3) {
		return g.alloc(p, 1)
	}
	return g.alloc(p, 0)
}

// mobileAddr is a carrier-grade NAT address that changes on every attach.
func (g *gen) mobileAddr(p geotest.Place) netip.Addr {
	if len(p.Networks) > 1 && g.chance(0.3) {
		return p.AddrIn(1, g.rng.IntN(1<<20))
	}
	return p.Addr(g.rng.IntN(1 << 18))
}

// corpAddr is one of a corporate network's few egress proxies.
func (g *gen) corpAddr(us bool) netip.Addr {
	if us {
		return geotest.ByName("us-corporate").Addr(1 + g.rng.IntN(8))
	}
	return geotest.ByName("frankfurt").Addr(1 + g.rng.IntN(16))
}

func (g *gen) officeAddr(u *user) netip.Addr {
	switch u.office {
	case officeCorpUS:
		return g.corpAddr(true)
	case officeClinic:
		return u.clinicAddr
	default:
		return g.corpAddr(false)
	}
}

// Where a user is at a moment.
const (
	atHome = iota
	abroad
	flying
)

func (u *user) where(t time.Time) int {
	tr := u.trip
	switch {
	case tr == nil || t.Before(tr.leave) || !t.Before(tr.home):
		return atHome
	case t.Before(tr.arrive) || !t.Before(tr.back):
		return flying
	default:
		return abroad
	}
}

func (u *user) tzAt(t time.Time) float64 {
	if u.where(t) == abroad {
		return u.trip.tz
	}
	return u.tz
}

// laptopAddr is where the laptop signs in from at t; false while flying.
func (g *gen) laptopAddr(u *user, t time.Time, atOffice bool) (netip.Addr, bool) {
	switch {
	case u.where(t) == flying:
		return netip.Addr{}, false
	case u.where(t) == abroad:
		return u.trip.hotel, true
	case u.corpVPN:
		return g.corpAddr(g.chance(0.5)), true
	case atOffice:
		return g.officeAddr(u), true
	}
	return u.homeAddr, true
}

// phoneAddr is where the phone syncs from: wifi at home or work, or the
// carrier's network for users whose phones stay on mobile data.
func (g *gen) phoneAddr(u *user, t time.Time, atOffice bool) (netip.Addr, bool) {
	switch {
	case u.where(t) == flying:
		return netip.Addr{}, false
	case u.where(t) == abroad && u.trip.roaming:
		return g.mobileAddr(*u.carrier), true // roaming egresses at the home carrier
	case u.where(t) == abroad:
		return u.trip.hotel, true
	case u.carrier != nil && g.chance(0.6):
		return g.mobileAddr(*u.carrier), true
	case atOffice:
		return g.officeAddr(u), true
	}
	return u.homeAddr, true
}

// greatCircleKm is the distance between two points on a spherical earth.
func greatCircleKm(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}
