package synth

import (
	"math"
	"time"

	"github.com/atod-project/atod/cmd/atogen/label"
	"github.com/atod-project/atod/enrich/geotest"
	"github.com/atod-project/atod/ingest"
)

// assignNoise gives labelled subsets of users the benign behaviour that
// looks like an attack to a naive rule. Groups are disjoint, except that
// phones on mobile data mix with the groups that do not travel.
func (g *gen) assignNoise() {
	n := len(g.users)
	order := g.rng.Perm(n)
	taken := make([]bool, n)
	count := func(frac float64) int { return max(1, int(math.Round(frac*float64(n)))) }
	take := func(kind string, want int, ok func(*user) bool) []*user {
		var got []*user
		for _, i := range order {
			if len(got) == want {
				break
			}
			if u := g.users[i]; !taken[i] && ok(u) {
				taken[i] = true
				u.noise = append(u.noise, kind)
				got = append(got, u)
			}
		}
		g.noise[kind] = append(g.noise[kind], got...)
		return got
	}
	any := func(*user) bool { return true }
	german := func(u *user) bool { return u.country == "DE" }
	hasPhone := func(u *user) bool { return u.phone != nil }

	berlin := geotest.ByName("berlin")
	clinic := g.alloc(berlin, 0)
	for _, u := range take(label.NoiseClinicNAT, min(50, max(5, n/10)), func(u *user) bool { return u.home.Name == "berlin" }) {
		u.office, u.officeProb, u.clinicAddr = officeClinic, 0.9, clinic
	}
	for _, u := range take(label.NoiseRoaming, count(0.01), func(u *user) bool { return german(u) && hasPhone(u) }) {
		carrier := geotest.ByName("de-mobile")
		u.carrier = &carrier
		g.makeTrip(u, geotest.ByName(pick(g, []string{"mallorca", "london"})), true)
	}
	for _, u := range take(label.NoiseTrip, count(0.01), any) {
		dest := pick(g, []string{"new-york", "san-francisco", "singapore"})
		if u.country == "US" {
			dest = pick(g, []string{"london", "berlin", "paris"})
		}
		g.makeTrip(u, geotest.ByName(dest), false)
	}
	for _, u := range take(label.NoiseCorpVPN, count(0.015), any) {
		u.corpVPN = true
	}
	for _, u := range take(label.NoisePoller, count(0.015), any) {
		d := g.device(u, pick(g, pollerAgents), "imap")
		u.poller = &d
	}
	for _, u := range take(label.NoiseStaleClient, count(0.0075), hasPhone) {
		day := g.rng.IntN(g.cfg.Days)
		from := g.start.Add(time.Duration(day)*24*time.Hour + hours(17-u.tz+3*g.rng.Float64()))
		u.stale = &window{day: day, from: from, to: from.Add(g.between(2*time.Hour, 6*time.Hour)), dev: u.phone}
	}
	for _, u := range take(label.NoiseForgotPass, count(0.015), any) {
		u.forgotDay = g.workday()
	}
	for _, u := range take(label.NoiseSelfForward, count(0.01), any) {
		u.forwardDay = g.workday()
	}

	// Phones on mobile data: many users, but not the travellers.
	mobile := count(0.2)
	for _, i := range order {
		u := g.users[i]
		if mobile == 0 {
			break
		}
		if u.trip != nil || u.corpVPN || (u.country != "DE" && u.country != "US") || !hasPhone(u) {
			continue
		}
		carrier := geotest.ByName("de-mobile")
		if u.country == "US" {
			carrier = geotest.ByName("us-mobile")
		}
		u.carrier = &carrier
		u.noise = append(u.noise, label.NoiseMobileCarrier)
		g.noise[label.NoiseMobileCarrier] = append(g.noise[label.NoiseMobileCarrier], u)
		mobile--
	}
}

// workday picks a Monday-to-Friday day of the tenant, or day 0 if it has
// none.
func (g *gen) workday() int {
	var days []int
	for d := range g.cfg.Days {
		wd := g.start.Add(time.Duration(d) * 24 * time.Hour).Weekday()
		if wd != time.Saturday && wd != time.Sunday {
			days = append(days, d)
		}
	}
	if len(days) == 0 {
		return 0
	}
	return pick(g, days)
}

// makeTrip plans a flight out and back. Time in the air is the distance at
// 750 km/h plus an hour and a half or more at airports, so the journey never
// beats a real plane.
func (g *gen) makeTrip(u *user, dest geotest.Place, roaming bool) {
	leaveDay := 0
	if g.cfg.Days > 2 {
		leaveDay = 1 + g.rng.IntN(g.cfg.Days-2)
	}
	leave := g.start.Add(time.Duration(leaveDay)*24*time.Hour + hours(8+6*g.rng.Float64()-u.tz))
	km := greatCircleKm(u.home.Lat, u.home.Lon, dest.Lat, dest.Lon)
	flight := hours(km/750 + 1.5 + g.rng.Float64())
	stay := time.Duration(2+g.rng.IntN(3)) * 24 * time.Hour
	if roaming {
		stay = time.Duration(2+g.rng.IntN(2)) * 24 * time.Hour
	}
	arrive := leave.Add(flight)
	back := arrive.Add(stay + g.between(-3*time.Hour, 3*time.Hour))
	u.trip = &trip{
		leave: leave, arrive: arrive, back: back, home: back.Add(flight),
		dest: dest, hotel: g.alloc(dest, 0), tz: placeTZ[dest.Name], roaming: roaming,
	}
}

// userNoiseEvents writes what marks a journey: a phone sync on the way to
// the airport and a laptop sign-in at the hotel soon after landing, and the
// same on the way back.
func (g *gen) userNoiseEvents(u *user) {
	if tr := u.trip; tr != nil {
		if u.phone != nil {
			g.phoneSync(u, tr.leave.Add(-g.between(20*time.Minute, 90*time.Minute)), false)
			g.phoneSync(u, tr.back.Add(-g.between(20*time.Minute, 90*time.Minute)), false)
		}
		g.laptopLogin(u, tr.arrive.Add(g.between(time.Hour, 3*time.Hour)), false, 0)
		g.laptopLogin(u, tr.home.Add(g.between(time.Hour, 3*time.Hour)), false, 0)
	}
}

// staleClient is a phone that keeps the old password after the user changed
// it on the laptop: it fails every few minutes from home for hours, until
// the user types the new one.
func (g *gen) staleClient(u *user) {
	w := u.stale
	w.ip = u.homeAddr
	g.laptopLogin(u, w.from.Add(-g.between(5*time.Minute, 20*time.Minute)), false, 0)
	for t := w.from; t.Before(w.to); t = t.Add(g.between(2*time.Minute, 5*time.Minute)) {
		g.fail(u, w.dev, w.ip, t, ingest.ReasonBadPassword)
	}
	g.signIn(u, w.dev, w.ip, g.session(), w.to.Add(g.between(time.Minute, 10*time.Minute)))
}
