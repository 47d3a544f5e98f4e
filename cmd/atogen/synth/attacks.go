package synth

import (
	"slices"
	"strings"
	"time"

	"github.com/atod-project/atod/cmd/atogen/label"
	"github.com/atod-project/atod/ingest"
)

func (g *gen) modestItems() int { return 10 + g.rng.IntN(70) }
func (g *gen) bulkItems() int   { return 800 + g.rng.IntN(4200) }

// phishedAbroad: a phished password used from another continent, then the
// mailbox read.
func (g *gen) phishedAbroad(t time.Time) *attack {
	a := &attack{kind: label.AttackPhishedAbroad}
	v := g.victim(anyUser)
	a.target(v.name)
	who := g.newAttacker(abroadPlaces, browserAgents, []string{"web"})
	g.takeover(a, who, v.name, t, 3+g.rng.IntN(6), g.modestItems)
	return a
}

// domesticVPN: a consumer VPN or a hosting address in the victim's own
// country, so geography says nothing; the bulk read gives it away.
func (g *gen) domesticVPN(t time.Time) *attack {
	a := &attack{kind: label.AttackDomesticVPN}
	v := g.victim(func(u *user) bool { return u.country == "DE" })
	a.target(v.name)
	who := g.newAttacker([]string{"de-vpn", "nuremberg-hosting"}, browserAgents, []string{"web"})
	g.takeover(a, who, v.name, t, 3+g.rng.IntN(4), g.bulkItems)
	return a
}

// stuffing: one address tries a leaked list against many accounts within
// minutes; about 40% of the names do not exist here, and 1–3 work.
func (g *gen) stuffing(t time.Time) *attack {
	a := &attack{kind: label.AttackStuffing}
	who := g.newAttacker(hostingPlaces, []string{"python-requests/2.31.0", "okhttp/4.9.2", "Go-http-client/1.1"}, []string{"web", "imap"})
	total := 30 + g.rng.IntN(171)
	real := min(total*6/10, len(g.users)/2)
	hits := 1 + g.rng.IntN(3)
	var names []string
	var hitNames []string
	for range hits {
		v := g.victim(anyUser)
		hitNames = append(hitNames, v.name)
		names = append(names, v.name)
	}
	for _, i := range g.rng.Perm(len(g.users)) {
		if len(names) >= real {
			break
		}
		if n := g.users[i].name; !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	names = append(names, g.unknownNames(total-len(names))...)
	g.rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	spread := g.between(2*time.Minute, 8*time.Minute)
	step := spread / time.Duration(len(names))
	for i, name := range names {
		at := t.Add(time.Duration(i)*step + g.between(0, step))
		a.target(name)
		switch {
		case slices.Contains(hitNames, name):
			g.takeover(a, who, name, at, 1+g.rng.IntN(3), g.modestItems)
		case strings.HasSuffix(name, "@"+Domain) && g.known(name):
			g.attackLogin(a, who, name, at, ingest.OutcomeFailure, ingest.ReasonBadPassword, "")
		default:
			g.attackLogin(a, who, name, at, ingest.OutcomeFailure, ingest.ReasonUnknownUser, "")
		}
	}
	return a
}

// spray: many addresses each try one password against a few accounts over
// hours through legacy protocols, about one attempt per account; one works.
func (g *gen) spray(t time.Time) *attack {
	a := &attack{kind: label.AttackSpray}
	pool := make([]attacker, 15+g.rng.IntN(40))
	for i := range pool {
		pool[i] = g.newAttacker(sprayPlaces, []string{"BAV2ROPC", "python-requests/2.31.0", "Microsoft Office/16.0"}, legacyProtos)
	}
	total := min(len(g.users)*3/4, 60+g.rng.IntN(240))
	hit := g.victim(anyUser).name
	names := []string{hit}
	for _, i := range g.rng.Perm(len(g.users)) {
		if len(names) >= total*9/10 {
			break
		}
		if n := g.users[i].name; n != hit {
			names = append(names, n)
		}
	}
	names = append(names, g.unknownNames(total-len(names))...)
	g.rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	duration := g.between(3*time.Hour, 8*time.Hour)
	for _, name := range names {
		at := t.Add(g.between(0, duration))
		who := pick(g, pool)
		a.target(name)
		switch {
		case name == hit:
			g.takeover(a, who, name, at, 1+g.rng.IntN(2), g.modestItems)
		case g.known(name):
			g.attackLogin(a, who, name, at, ingest.OutcomeFailure, ingest.ReasonBadPassword, "")
		default:
			g.attackLogin(a, who, name, at, ingest.OutcomeFailure, ingest.ReasonUnknownUser, "")
		}
	}
	return a
}

// bruteForce: 30 or more guesses at one account from one or two addresses,
// then the right one.
func (g *gen) bruteForce(t time.Time) *attack {
	a := &attack{kind: label.AttackBruteForce}
	v := g.victim(anyUser)
	a.target(v.name)
	agents := []string{"python-requests/2.31.0", "BAV2ROPC", "Go-http-client/1.1"}
	protos := []string{"imap", "smtp", "web"}
	who := []attacker{g.newAttacker(hostingPlaces, agents, protos)}
	if g.chance(0.4) {
		who = append(who, g.newAttacker(hostingPlaces, agents, protos))
	}
	for range 30 + g.rng.IntN(50) {
		t = t.Add(g.between(8*time.Second, 40*time.Second))
		g.attackLogin(a, pick(g, who), v.name, t, ingest.OutcomeFailure, ingest.ReasonBadPassword, "")
	}
	g.takeover(a, pick(g, who), v.name, t.Add(g.between(10*time.Second, time.Minute)), 1+g.rng.IntN(3), g.modestItems)
	return a
}

// sessionReplay: the victim signs in as always; a stolen session cookie is
// then replayed from another country with no sign-in of its own.
func (g *gen) sessionReplay(t time.Time) *attack {
	a := &attack{kind: label.AttackSessionReplay}
	v := g.victim(anyUser)
	a.target(v.name)
	// The victim's own sign-in falls in their working hours that day.
	if work := t.Truncate(24 * time.Hour).Add(hours(8 + 9*g.rng.Float64() - v.tz)); work.After(g.start) && work.Before(g.end.Add(-4*time.Hour)) {
		t = work
	}
	s, ip, ok := g.laptopLogin(v, t, false, 0)
	if !ok {
		return a
	}
	g.mailboxRead(v, &v.laptop, ip, s, t.Add(g.between(time.Minute, 10*time.Minute)), 1+g.rng.IntN(20))
	who := g.newAttacker(farPlaces, []string{v.laptop.agent}, []string{"web"})
	t = t.Add(g.between(20*time.Minute, 3*time.Hour))
	if g.chance(0.5) { // the token refresh shows as a sign-in
		a.compromise(g.attackLogin(a, who, v.name, t, ingest.OutcomeSuccess, "", s))
	} else {
		a.compromise(a.add(g.add(ingest.Event{
			Time: t, User: v.name, IP: who.ip, Type: ingest.TypeMailboxAccess, SessionID: s,
			Protocol: who.protocol, Items: g.modestItems(),
		})))
	}
	for range 2 + g.rng.IntN(5) {
		t = t.Add(g.between(30*time.Second, 6*time.Minute))
		a.add(g.add(ingest.Event{
			Time: t, User: v.name, IP: who.ip, Type: ingest.TypeMailboxAccess, SessionID: s,
			Protocol: who.protocol, Items: g.modestItems(),
		}))
	}
	return a
}

// mfaFatigue: the password is known; prompts are pushed until the victim
// gives in.
func (g *gen) mfaFatigue(t time.Time) *attack {
	a := &attack{kind: label.AttackMFAFatigue}
	v := g.victim(anyUser)
	a.target(v.name)
	who := g.newAttacker(append(slices.Clone(farPlaces), "de-vpn"), browserAgents, []string{"web"})
	for range 5 + g.rng.IntN(11) {
		g.attackLogin(a, who, v.name, t, ingest.OutcomeFailure, ingest.ReasonMFADenied, "")
		t = t.Add(g.between(15*time.Second, 75*time.Second))
	}
	g.takeover(a, who, v.name, t, 2+g.rng.IntN(3), g.modestItems)
	return a
}

// forwardingRule: a takeover from abroad, then a rule that sends mail out
// and/or deletes it so the victim does not notice.
func (g *gen) forwardingRule(t time.Time) *attack {
	a := &attack{kind: label.AttackForwardingRule}
	v := g.victim(anyUser)
	a.target(v.name)
	who := g.newAttacker(farPlaces, browserAgents, []string{"web"})
	s, last := g.takeover(a, who, v.name, t, 1+g.rng.IntN(2), g.modestItems)
	rule := &ingest.InboxRule{Name: pick(g, dropRuleNames)}
	switch g.rng.IntN(3) {
	case 0:
		rule.ForwardTo = []string{pick(g, []string{"invoices", "backup", "docs", "j.smith"}) + "@" + pick(g, dropDomains)}
	case 1:
		rule.ForwardTo = []string{"archive" + g.hex(4) + "@" + pick(g, dropDomains)}
		rule.Delete = true
	default:
		rule.RedirectTo = []string{"mail" + g.hex(4) + "@" + pick(g, dropDomains)}
		rule.MoveTo = "RSS Subscriptions"
	}
	a.add(g.add(ingest.Event{
		Time: last.Add(g.between(time.Minute, 15*time.Minute)), User: v.name, IP: who.ip,
		Type: ingest.TypeInboxRule, SessionID: s, Protocol: who.protocol, UserAgent: who.agent, Rule: rule,
	}))
	return a
}

// unknownNames makes n account names that do not exist in the tenant:
// former staff, role accounts, names from other breaches.
func (g *gen) unknownNames(n int) []string {
	roles := []string{"info", "admin", "hr", "it-support", "billing", "reception", "postmaster", "office"}
	var out []string
	for len(out) < n {
		var name string
		if g.chance(0.2) {
			name = pick(g, roles) + "@" + Domain
		} else {
			name = pick(g, firstNames) + "." + pick(g, lastNames) + pick(g, []string{"", "1", "2", "-old"}) + "@" + Domain
		}
		if !g.known(name) && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// known reports whether name is an account of the tenant.
func (g *gen) known(name string) bool {
	if g.accounts == nil {
		g.accounts = make(map[string]bool, len(g.users))
		for _, u := range g.users {
			g.accounts[u.name] = true
		}
	}
	return g.accounts[strings.ToLower(name)]
}
