package synth

import (
	"net/netip"
	"time"

	"github.com/atod-project/atod/ingest"
)

// day is one user's day in local time.
type day struct {
	midnight time.Time // 00:00 UTC of the day
	tz       float64
}

// at converts a local hour of the day to an instant.
func (d day) at(h float64) time.Time { return d.midnight.Add(hours(h - d.tz)) }

// userDay writes one user's ordinary activity for a day: a laptop session
// at home or at work with a few mailbox reads, phone syncs morning, noon and
// evening, and now and then a typo or a folder rule.
func (g *gen) userDay(u *user, index int) {
	if g.chance(0.1) { // the DSL line reconnected overnight
		u.homeAddr = g.homeAddr(u.home)
	}
	mid := g.start.Add(time.Duration(index) * 24 * time.Hour)
	d := day{midnight: mid, tz: u.tzAt(mid.Add(12 * time.Hour))}
	weekend := mid.Weekday() == time.Saturday || mid.Weekday() == time.Sunday
	if u.poller != nil && !weekend {
		g.poll(u, d)
	}
	if u.stale != nil && u.stale.day == index {
		g.staleClient(u)
	}
	if (weekend || !g.chance(0.93)) && u.forgotDay != index && u.forwardDay != index {
		g.offDay(u, d)
		return
	}
	atOffice := u.office != officeNone && u.where(d.at(12)) == atHome && g.chance(u.officeProb)
	begin := clamp(7.6+g.rng.NormFloat64()*0.6, 6, 10)
	end := begin + clamp(8.5+g.rng.NormFloat64()*0.7, 6, 11)

	failures := 0
	if u.forgotDay == index {
		failures = 8 + g.rng.IntN(5)
	} else if g.chance(typoRate(u, atOffice)) {
		failures = 1
	}
	s, ip, ok := g.laptopLogin(u, d.at(begin), atOffice, failures)
	if ok {
		for range 2 + g.rng.IntN(3) {
			t := d.at(begin + (end-begin)*g.rng.Float64())
			g.mailboxRead(u, &u.laptop, g.sessionAddr(u, ip), s, t, 1+g.rng.IntN(25))
		}
		if u.corpVPN { // the VPN client reconnects through either continent
			for h := begin + 0.3; h < end; h += 0.25 + 0.5*g.rng.Float64() {
				t := d.at(h)
				g.signIn(u, &u.laptop, g.sessionAddr(u, ip), s, t)
			}
		}
		if g.chance(0.003) {
			g.inboxRule(u, ip, s, d.at(begin+1+g.rng.Float64()*3),
				&ingest.InboxRule{Name: pick(g, []string{"Newsletters", "Werbung", "Updates"}), MoveTo: "Newsletters"})
		}
		if u.forwardDay == index {
			g.inboxRule(u, ip, s, d.at(begin+0.2+g.rng.Float64()*2), &ingest.InboxRule{
				Name:      pick(g, []string{"Forward to private", "Weiterleitung privat", "home copy"}),
				ForwardTo: []string{personalAddress(g, u)},
			})
		}
	}
	if g.chance(0.25) { // signed in again after lunch
		g.laptopLogin(u, d.at(12.5+g.rng.Float64()), atOffice, 0)
	}
	if u.phone != nil {
		if g.chance(0.7) {
			g.phoneSync(u, d.at(begin-0.3-g.rng.Float64()), false)
		}
		if g.chance(0.5) {
			g.phoneSync(u, d.at(12+1.5*g.rng.Float64()), atOffice)
		}
		if g.chance(0.6) {
			g.phoneSync(u, d.at(18.5+3*g.rng.Float64()), false)
		}
	}
}

// offDay is a weekend or a day off: a couple of phone syncs, rarely the
// laptop.
func (g *gen) offDay(u *user, d day) {
	if u.phone != nil {
		for range g.rng.IntN(3) {
			g.phoneSync(u, d.at(9+13*g.rng.Float64()), false)
		}
	}
	if g.chance(0.15) {
		h := 10 + 10*g.rng.Float64()
		if s, ip, ok := g.laptopLogin(u, d.at(h), false, 0); ok {
			t := d.at(h + 0.1 + 0.5*g.rng.Float64())
			g.mailboxRead(u, &u.laptop, ip, s, t, 1+g.rng.IntN(15))
		}
	}
}

// laptopLogin signs the laptop in, after the given number of bad passwords.
func (g *gen) laptopLogin(u *user, t time.Time, atOffice bool, failures int) (string, netip.Addr, bool) {
	ip, ok := g.laptopAddr(u, t, atOffice)
	if !ok {
		return "", ip, false
	}
	ft := t.Add(-time.Duration(failures) * 40 * time.Second)
	for range failures {
		g.fail(u, &u.laptop, ip, ft, ingest.ReasonBadPassword)
		ft = ft.Add(g.between(15*time.Second, 65*time.Second))
	}
	s := g.session()
	g.signIn(u, &u.laptop, ip, s, t)
	return s, ip, true
}

// phoneSync is an ActiveSync sign-in, sometimes followed by a small read.
func (g *gen) phoneSync(u *user, t time.Time, atOffice bool) {
	if u.stale != nil && u.stale.dev == u.phone && !t.Before(u.stale.from.Add(-time.Hour)) && t.Before(u.stale.to) {
		return // the phone is failing with the old password instead
	}
	ip, ok := g.phoneAddr(u, t, atOffice)
	if !ok {
		return
	}
	s := g.session()
	g.signIn(u, u.phone, ip, s, t)
	if g.chance(0.5) {
		g.mailboxRead(u, u.phone, ip, s, t.Add(g.between(5*time.Second, 2*time.Minute)), 1+g.rng.IntN(8))
	}
}

// poll is a desktop IMAP client checking mail every 5–15 minutes through
// the working day.
func (g *gen) poll(u *user, d day) {
	ip := u.homeAddr
	if u.office != officeNone {
		ip = g.officeAddr(u)
	}
	for h := 7 + g.rng.Float64(); h < 19; h += (5 + 10*g.rng.Float64()) / 60 {
		g.signIn(u, u.poller, ip, "", d.at(h))
	}
}

// sessionAddr is the address a session's later events come from: the same
// one, except behind the two-continent VPN.
func (g *gen) sessionAddr(u *user, ip netip.Addr) netip.Addr {
	if u.corpVPN {
		return g.corpAddr(g.chance(0.5))
	}
	return ip
}

func (g *gen) signIn(u *user, dev *device, ip netip.Addr, session string, t time.Time) *ingest.Event {
	return g.add(ingest.Event{
		Time: t, User: dev.login, IP: ip, Type: ingest.TypeLogin, Outcome: ingest.OutcomeSuccess,
		SessionID: session, Protocol: dev.protocol, UserAgent: dev.agent, DeviceID: dev.id,
	})
}

func (g *gen) fail(u *user, dev *device, ip netip.Addr, t time.Time, reason string) *ingest.Event {
	return g.add(ingest.Event{
		Time: t, User: dev.login, IP: ip, Type: ingest.TypeLogin, Outcome: ingest.OutcomeFailure,
		Reason: reason, Protocol: dev.protocol, UserAgent: dev.agent, DeviceID: dev.id,
	})
}

func (g *gen) mailboxRead(u *user, dev *device, ip netip.Addr, session string, t time.Time, items int) *ingest.Event {
	if u.where(t) == flying {
		return nil
	}
	return g.add(ingest.Event{
		Time: t, User: u.name, IP: ip, Type: ingest.TypeMailboxAccess, SessionID: session,
		Protocol: dev.protocol, DeviceID: dev.id, Items: items,
	})
}

func (g *gen) inboxRule(u *user, ip netip.Addr, session string, t time.Time, r *ingest.InboxRule) *ingest.Event {
	return g.add(ingest.Event{
		Time: t, User: u.name, IP: ip, Type: ingest.TypeInboxRule, SessionID: session,
		Protocol: "web", UserAgent: u.laptop.agent, DeviceID: u.laptop.id, Rule: r,
	})
}

func personalAddress(g *gen, u *user) string {
	local := u.name[:len(u.name)-len(Domain)-1]
	return local + pick(g, []string{"", ".private", "84", "1979"}) + "@" + pick(g, personalDomains)
}

// typoRate is the chance of one mistyped password on a workday; shared
// clinic workstations see more.
func typoRate(u *user, atOffice bool) float64 {
	if atOffice && u.office == officeClinic {
		return 0.1
	}
	return 0.02
}

func clamp(x, lo, hi float64) float64 { return max(lo, min(hi, x)) }
