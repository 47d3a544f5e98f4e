package synth

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/atod-project/atod/cmd/atogen/label"
	"github.com/atod-project/atod/enrich/geotest"
	"github.com/atod-project/atod/ingest"
)

// attack gathers one attack's malicious events and what the label says
// about them, until event ids are final.
type attack struct {
	kind        string
	users       []string
	ips         []string
	compromised []label.Compromise
	events      []*ingest.Event
}

func (a *attack) target(name string) {
	name = strings.ToLower(name)
	if !slices.Contains(a.users, name) {
		a.users = append(a.users, name)
	}
}

// add keeps a malicious event (nil when it fell outside the tenant).
func (a *attack) add(e *ingest.Event) *ingest.Event {
	if e == nil {
		return nil
	}
	a.events = append(a.events, e)
	if e.IP.IsValid() && !slices.Contains(a.ips, e.IP.String()) {
		a.ips = append(a.ips, e.IP.String())
	}
	return e
}

// compromise marks e as the attacker's first success on its account.
func (a *attack) compromise(e *ingest.Event) {
	if e == nil {
		return
	}
	user := strings.ToLower(e.User)
	for _, c := range a.compromised {
		if c.User == user {
			return
		}
	}
	a.target(user)
	a.compromised = append(a.compromised, label.Compromise{User: user, FirstSuccess: e.Time})
}

func (a *attack) label(id string) label.Attack {
	l := label.Attack{
		Attack: a.kind, ID: id, Users: a.users, IPs: a.ips,
		Compromised: a.compromised, Events: []string{},
	}
	if l.Compromised == nil {
		l.Compromised = []label.Compromise{}
	}
	for i, e := range a.events {
		l.Events = append(l.Events, e.ID)
		if i == 0 || e.Time.Before(l.Start) {
			l.Start = e.Time
		}
		if e.Time.After(l.End) {
			l.End = e.Time
		}
	}
	slices.Sort(l.Events)
	return l
}

// attacker is the client an attacker signs in with: an address, an agent
// and a protocol, never one of the victim's devices.
type attacker struct {
	ip       netip.Addr
	agent    string
	protocol string
}

// newAttacker takes a fresh address in one of the given places.
func (g *gen) newAttacker(places []string, agents []string, protocols []string) attacker {
	p := geotest.ByName(pick(g, places))
	n := 0
	if len(p.Networks) > 1 && g.chance(0.2) {
		n = 1
	}
	return attacker{ip: g.scatter(p, n), agent: pick(g, agents), protocol: pick(g, protocols)}
}

// login writes an attacker's sign-in attempt. Attackers type the name as
// they found it, now and then capitalised.
func (g *gen) attackLogin(a *attack, who attacker, user string, t time.Time, outcome, reason, session string) *ingest.Event {
	if g.chance(0.1) {
		user = mixedCase(user, false)
	}
	return a.add(g.add(ingest.Event{
		Time: t, User: user, IP: who.ip, Type: ingest.TypeLogin, Outcome: outcome, Reason: reason,
		SessionID: session, Protocol: who.protocol, UserAgent: who.agent,
	}))
}

// takeover is a success followed by reading mail in the new session; it
// returns the session and the time of the last read.
func (g *gen) takeover(a *attack, who attacker, user string, t time.Time, reads int, items func() int) (string, time.Time) {
	s := g.session()
	a.compromise(g.attackLogin(a, who, user, t, ingest.OutcomeSuccess, "", s))
	if who.protocol == "smtp" { // SMTP only sends; the reading is over IMAP
		who.protocol = "imap"
	}
	for range reads {
		t = t.Add(g.between(20*time.Second, 8*time.Minute))
		a.add(g.add(ingest.Event{
			Time: t, User: user, IP: who.ip, Type: ingest.TypeMailboxAccess, SessionID: s,
			Protocol: who.protocol, Items: items(),
		}))
	}
	return s, t
}

// makeAttacks places every kind of attack at random times after a warm-up,
// so the detector has seen each victim's normal behaviour first.
func (g *gen) makeAttacks() {
	span := g.end.Sub(g.start)
	warmup := min(24*time.Hour, span/3)
	latest := g.end.Add(-6 * time.Hour)
	when := func() time.Time { return g.start.Add(warmup + g.between(0, latest.Sub(g.start.Add(warmup)))) }
	perKind := max(1, len(g.users)/500)
	kinds := []func(time.Time) *attack{
		g.phishedAbroad, g.domesticVPN, g.stuffing, g.spray,
		g.bruteForce, g.sessionReplay, g.mfaFatigue, g.forwardingRule,
	}
	for range perKind {
		for _, k := range kinds {
			g.attacks = append(g.attacks, k(when()))
		}
	}
}

// victim picks an account with no benign noise, not attacked yet, that
// passes ok; with none left it takes any account not yet a victim.
func (g *gen) victim(ok func(*user) bool) *user {
	order := g.rng.Perm(len(g.users))
	for pass := range 2 {
		for _, i := range order {
			u := g.users[i]
			if !u.victim && (pass == 1 || len(u.noise) == 0) && ok(u) {
				u.victim = true
				return u
			}
		}
	}
	return g.users[order[0]]
}

func anyUser(*user) bool { return true }

// Places attackers come from.
var (
	abroadPlaces  = []string{"lagos", "moscow", "sao-paulo"}
	farPlaces     = []string{"lagos", "moscow", "sao-paulo", "singapore", "beijing"}
	hostingPlaces = []string{"amsterdam-hosting", "tor-exit", "nuremberg-hosting", "singapore", "beijing", "moscow"}
	sprayPlaces   = []string{"amsterdam-hosting", "tor-exit", "nuremberg-hosting", "singapore", "beijing", "sao-paulo", "moscow", "lagos", "sydney"}
	browserAgents = attackerAgents[1:3]
	legacyProtos  = []string{"imap", "pop3", "smtp"}
)
