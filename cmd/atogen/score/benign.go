package score

import (
	"slices"
	"strings"
	"time"

	"github.com/atod-project/atod/detector"
)

// entityDay is one account or address alerted on during one UTC day, under
// one heading of a breakdown ("" for the totals).
type entityDay struct {
	heading, entity string
	day             int64
}

// tally counts distinct entity-days per heading.
type tally map[entityDay]bool

func (t tally) count(heading string) int {
	n := 0
	for k := range t {
		if k.heading == heading {
			n++
		}
	}
	return n
}

func (t tally) headings() []string {
	var out []string
	for k := range t {
		if !slices.Contains(out, k.heading) {
			out = append(out, k.heading)
		}
	}
	slices.Sort(out)
	return out
}

// benign counts alerts no attack explains, as entity-days: the user the
// alert is about, or its address when it names no user, and its UTC day.
// Counting entity-days rather than alerts keeps a detector that repeats
// itself from looking worse than one that groups its findings.
func (r *Report) benign(attacks []*attackIndex, in *Input) {
	userNoise := map[string][]string{}
	for _, n := range in.Labels.Noise {
		for _, u := range n.Users {
			u = strings.ToLower(u)
			userNoise[u] = append(userNoise[u], n.Noise)
		}
	}
	addrNoise := map[string]string{}
	noiseOf := func(a *detector.Alert) []string {
		switch {
		case a.User != "":
			if kinds := userNoise[strings.ToLower(a.User)]; len(kinds) > 0 {
				return kinds
			}
			return []string{noNoise}
		case in.AddrUsers == nil:
			return []string{addressWithoutEvents}
		}
		k, ok := addrNoise[a.IP]
		if !ok {
			k = majorityNoise(in.AddrUsers[a.IP], userNoise)
			addrNoise[a.IP] = k
		}
		return []string{k}
	}

	alerts, revokes := tally{}, tally{}
	byRule, byRuleRevoke := tally{}, tally{}
	byNoise, byNoiseRevoke := tally{}, tally{}
	for i := range in.Alerts {
		a := &in.Alerts[i]
		if slices.ContainsFunc(attacks, func(x *attackIndex) bool { return x.explains(a) }) {
			continue
		}
		r.BenignAlerts++
		entity, day := entityOf(a), a.Time.UTC().Unix()/int64(24*time.Hour/time.Second)
		revoke := a.Action == detector.ActionRevoke
		mark := func(t, tRevoke tally, heading string) {
			t[entityDay{heading, entity, day}] = true
			if revoke {
				tRevoke[entityDay{heading, entity, day}] = true
			}
		}
		mark(alerts, revokes, "")
		mark(byRule, byRuleRevoke, a.Rule)
		for _, k := range noiseOf(a) {
			mark(byNoise, byNoiseRevoke, k)
		}
	}
	r.Benign = r.rate(alerts.count(""))
	r.BenignRevokes = r.rate(revokes.count(""))
	for _, h := range byRule.headings() {
		r.ByRule = append(r.ByRule, Breakdown{Name: h, Alerts: r.rate(byRule.count(h)), Revokes: r.rate(byRuleRevoke.count(h))})
	}
	for _, h := range byNoise.headings() {
		r.ByNoise = append(r.ByNoise, Breakdown{Name: h, Alerts: r.rate(byNoise.count(h)), Revokes: r.rate(byNoiseRevoke.count(h))})
	}
}

func entityOf(a *detector.Alert) string {
	switch {
	case a.User != "":
		return "user:" + strings.ToLower(a.User)
	case a.IP != "":
		return "ip:" + a.IP
	}
	return "alert:" + a.Rule + ":" + strings.ToLower(strings.Join(a.Users, ","))
}

// majorityNoise is the noise kind most users behind an address share, so
// the clinic's shared address counts as clinic noise.
func majorityNoise(users []string, userNoise map[string][]string) string {
	counts := map[string]int{}
	for _, u := range users {
		kinds := userNoise[u]
		if len(kinds) == 0 {
			kinds = []string{noNoise}
		}
		for _, k := range kinds {
			counts[k]++
		}
	}
	best := noNoise
	for k, n := range counts {
		if n > counts[best] || (n == counts[best] && k < best) {
			best = k
		}
	}
	return best
}

func (r *Report) rate(entityDays int) Rate {
	rt := Rate{EntityDays: entityDays}
	if r.UserDays > 0 {
		rt.Per1000UserDays = float64(entityDays) * 1000 / float64(r.UserDays)
	}
	return rt
}
