package detector

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"

	"github.com/atod-project/atod/enrich"
)

// Rule names, as they appear in alerts.
const (
	RuleImpossibleTravel   = "impossible_travel"
	RuleCredentialStuffing = "credential_stuffing"
	RulePasswordSpray      = "password_spray"
	RuleBruteForce         = "brute_force"
	RuleCompromise         = "compromise_after_attack"
	RuleMFAFatigue         = "mfa_fatigue"
)

// finding is one rule's verdict on one event, before policy and grouping.
type finding struct {
	rule     string
	onAddr   bool // about the event's address (users lists the accounts), else about its account
	onOrg    bool // about the whole organisation (users lists the accounts)
	score    int
	reasons  []string
	evidence []string
	users    []string
	// account, when set, is the account the finding is about instead of
	// the event's (an earlier hit, see earlierHits). Its state is not at
	// hand, so the finding joins no incident: it is raised once, when the
	// address's incident opens.
	account string
}

// raise applies the policy to a finding and groups it into the entity's
// open incident of the same rule. It returns an alert for a new incident,
// or for an open one whose action escalates to revocation; repeats of an
// open incident only extend it.
func (e *Engine) raise(ev *enrich.Event, f *finding, u *UserState, a *AddrState) (Alert, bool) {
	if f.score < e.cfg.Policy.AlertScore {
		return Alert{}, false
	}
	user := ev.User
	if f.account != "" {
		user = f.account
	}
	action := ActionAlert
	if !f.onAddr && !f.onOrg && f.score >= e.cfg.Policy.RevokeScore {
		if e.neverRevoke[user] {
			f.reasons = append(f.reasons, "The account is on the never-revoke list, so atod only alerts.")
		} else {
			action = ActionRevoke
		}
	}
	incidents, entity := &u.Incidents, user
	switch {
	case f.account != "":
		incidents = new([]Incident)
	case f.onAddr:
		incidents, entity = &a.Incidents, addrName(a.Addr)
	case f.onOrg:
		incidents, entity = &e.org.Incidents, "org:"+ev.Tenant
	}
	inc := openIncident(incidents, f.rule, ev, e.cfg.IncidentGap.Nanoseconds())
	if inc != nil {
		if ev.Time.After(inc.Last) {
			inc.Last = ev.Time
		}
		if action != ActionRevoke || inc.Action == ActionRevoke {
			return Alert{}, false
		}
		inc.Action, inc.Score = action, max(inc.Score, f.score)
	} else {
		inc = addIncident(incidents, Incident{Rule: f.rule, Start: ev.Time, Last: ev.Time, Action: action, Score: f.score})
	}
	al := Alert{
		ID:       alertID(f.rule, entity, ev.Tenant, inc, action),
		Time:     ev.Time.UTC(),
		Rule:     f.rule,
		Score:    f.score,
		Severity: SeverityOf(f.score),
		Action:   action,
		Reasons:  f.reasons,
		Evidence: capEvidence(f.evidence),
		Tenant:   ev.Tenant,
		Pos:      ev.Pos,
	}
	if f.onAddr || f.onOrg {
		al.Users = f.users
	} else {
		al.User = user
	}
	if ev.IP.IsValid() && !f.onOrg {
		al.IP = ev.IP.String()
		if g := ev.Geo; g.Country != "" || g.ASN != 0 {
			al.Geo = &AlertGeo{Country: g.Country, City: g.City, ASN: g.ASN, Org: g.Org}
		}
	}
	return al, true
}

// openIncident returns the incident of rule that is still open at the
// event's time, or nil.
func openIncident(incidents *[]Incident, rule string, ev *enrich.Event, gapNanos int64) *Incident {
	for i := range *incidents {
		inc := &(*incidents)[i]
		if inc.Rule == rule && ev.Time.Sub(inc.Last).Nanoseconds() <= gapNanos {
			return inc
		}
	}
	return nil
}

// addIncident stores inc, replacing a closed incident of the same rule or,
// when full, the least recent one.
func addIncident(incidents *[]Incident, inc Incident) *Incident {
	list := *incidents
	victim := -1
	for i := range list {
		if list[i].Rule == inc.Rule {
			victim = i
			break
		}
	}
	if victim < 0 && len(list) >= maxIncidents {
		victim = 0
		for i := range list {
			if list[i].Last.Before(list[victim].Last) {
				victim = i
			}
		}
	}
	if victim >= 0 {
		list[victim] = inc
		return &list[victim]
	}
	*incidents = append(list, inc)
	return &(*incidents)[len(*incidents)-1]
}

// alertID is stable: the same incident in a replay of the same input gets
// the same id, and an escalation of an incident gets an id of its own.
func alertID(rule, entity, tenant string, inc *Incident, action string) string {
	h := sha256.New()
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], uint64(inc.Start.UnixNano()))
	for _, s := range []string{rule, entity, tenant, action} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	h.Write(t[:])
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func capEvidence(ids []string) []string {
	ids = slices.DeleteFunc(ids, func(s string) bool { return s == "" })
	ids = slices.Compact(ids)
	if len(ids) > maxEvidence {
		ids = ids[len(ids)-maxEvidence:]
	}
	if ids == nil {
		ids = []string{}
	}
	return ids
}
