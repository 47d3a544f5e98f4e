package detector

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/atod-project/atod/enrich"
)

// Rule names of mailbox activity.
const (
	RuleMassMailboxAccess = "mass_mailbox_access"
	RuleForwardingRule    = "forwarding_rule"
	RuleHidingRule        = "hiding_rule"
)

// hiddenFolders are where attackers move mail so the victim does not see
// replies to their fraud.
var hiddenFolders = []string{"rss subscriptions", "rss feeds", "conversation history", "deleted items", "junk email", "archive"}

// massMailboxAccess finds bulk reading: far more items within an hour than
// the account's own busiest hour, and above the tenant's floor.
//
// Items are counted per clock hour, and the hour before counts whole while
// its last read is less than 60 minutes ago (prevWithin): counted by clock
// hour alone, reading at the end of each hour passed at nearly twice the
// threshold. The busiest hour is learned by clock hour, once the hour has
// left the window.
func (e *Engine) massMailboxAccess(ev *enrich.Event, u *UserState) (finding, bool) {
	c := &e.cfg.Mailbox
	if !c.Enabled || ev.Items <= 0 {
		return finding{}, false
	}
	m := &u.Mail
	hour := ev.Time.Truncate(time.Hour)
	if hour.After(m.Hour) {
		e.learnPeak(m, int(m.PrevItems))
		if hour.Sub(m.Hour) == time.Hour {
			// learned when it leaves the window
			m.PrevItems, m.PrevLast = int32(min(m.Items, math.MaxInt32)), m.LastRead
		} else {
			e.learnPeak(m, m.Items)
			m.PrevItems, m.PrevLast = 0, 0
		}
		m.Hour, m.Items, m.LastRead = hour, 0, 0
	}
	off := int32(min(max(ev.Time.Sub(m.Hour), 0), time.Hour-time.Second) / time.Second)
	m.LastRead = max(m.LastRead, off)
	m.Items += ev.Items
	recent := m.Items + m.prevWithin(ev.Time.Add(-time.Hour))
	if !e.bulk(recent, m.PeakItems) {
		return finding{}, false
	}
	f := finding{rule: RuleMassMailboxAccess, score: c.BulkScore, evidence: []string{ev.ID},
		reasons: []string{fmt.Sprintf("About %d mail items read within the last hour; the account's busiest hour so far was %d.", recent, m.PeakItems)}}
	e.mailboxContext(ev, u, &f)
	return f, true
}

// prevWithin is the previous hour's reading while its last read came
// after from, else none: an upper bound of what it read since. Taking
// the part of the hour after from, as if read evenly over the hour or
// between its first and last reads, let reading at the end of each hour
// pass at nearly twice the threshold (one early read of one item was
// enough); the bound counts reads up to two hours old instead.
func (m *MailUsage) prevWithin(from time.Time) int {
	last := m.Hour.Add(time.Duration(m.PrevLast)*time.Second - time.Hour)
	if !last.After(from) {
		return 0
	}
	return int(m.PrevItems)
}

// learnPeak learns an hour's reading as the account's busiest, unless it
// was bulk: that is not learned as normal.
func (e *Engine) learnPeak(m *MailUsage, items int) {
	if items > m.PeakItems && !e.bulk(items, m.PeakItems) {
		m.PeakItems = items
	}
}

func (e *Engine) bulk(items, peak int) bool {
	c := &e.cfg.Mailbox
	return items >= c.BulkMinItems && float64(items) >= c.BulkFactor*float64(peak)
}

// inboxRule finds rules that send mail outside the organisation or delete
// or hide it: how attackers keep reading a mailbox and hide their fraud.
func (e *Engine) inboxRule(ev *enrich.Event, u *UserState) (finding, bool) {
	c := &e.cfg.Mailbox
	if !c.Enabled || ev.Rule == nil {
		return finding{}, false
	}
	r := ev.Rule
	var external []string
	for _, to := range slices.Concat(r.ForwardTo, r.RedirectTo) {
		if e.externalAddress(ev.User, to) {
			external = append(external, to)
		}
	}
	hides := r.Delete || slices.Contains(hiddenFolders, strings.ToLower(strings.TrimSpace(r.MoveTo)))
	f := finding{evidence: []string{ev.ID}}
	switch {
	case len(external) > 0:
		f.rule, f.score = RuleForwardingRule, c.ForwardScore
		f.reasons = append(f.reasons, fmt.Sprintf("Inbox rule %q sends mail outside the organisation to %s.", r.Name, strings.Join(capStrings(external, 3), ", ")))
		if hides {
			f.score += 10
		}
	case hides:
		f.rule, f.score = RuleHidingRule, c.HideScore
	default:
		return finding{}, false
	}
	if hides {
		f.reasons = append(f.reasons, fmt.Sprintf("Inbox rule %q deletes or hides mail (delete=%t, move to %q).", r.Name, r.Delete, r.MoveTo))
	}
	e.mailboxContext(ev, u, &f)
	return f, true
}

// mailboxContext raises a mailbox finding that follows a risky sign-in or
// comes from a network the account does not use.
func (e *Engine) mailboxContext(ev *enrich.Event, u *UserState, f *finding) {
	c := &e.cfg.Mailbox
	r := &u.Risk
	sameSession := r.Session != 0 && r.Session == sessionHash(ev.SessionID)
	if !r.Time.IsZero() && ev.Time.Sub(r.Time) <= e.cfg.SignIn.RiskMemory && !ev.Time.Before(r.Time) &&
		(sameSession || r.IP == ev.IP) {
		f.score += c.AfterRiskyBonus
		f.reasons = append(f.reasons, fmt.Sprintf("It follows a risky sign-in (risk %d) from %s %s earlier.", r.Score, r.IP, roundGap(ev.Time.Sub(r.Time))))
		f.evidence = append([]string{r.EventID}, f.evidence...)
	}
	if ev.IP.IsValid() && !ev.Geo.Trusted && !u.knows(ev.IP) {
		f.score += c.UnfamiliarBonus
		f.reasons = append(f.reasons, fmt.Sprintf("From %s, a network the account does not sign in from.", ev.IP))
	}
	f.score = min(f.score, 100)
}

// externalAddress reports whether to lies outside the user's domain and the
// configured internal domains.
func (e *Engine) externalAddress(user, to string) bool {
	domain := func(addr string) string {
		at := strings.LastIndexByte(addr, '@')
		if at < 0 {
			return ""
		}
		// "example.org.", "<anna@example.org>" and Exchange's
		// "[SMTP:anna@example.org]" name example.org too.
		return strings.ToLower(strings.TrimRight(strings.TrimSpace(addr[at+1:]), `.>]"' `))
	}
	d := domain(to)
	if d == "" || d == domain(user) {
		return false
	}
	for _, in := range e.cfg.Mailbox.InternalDomains {
		if strings.EqualFold(d, in) || strings.HasSuffix(d, "."+strings.ToLower(in)) {
			return false
		}
	}
	return true
}
