package queue

import (
	"context"
	"strings"

	"github.com/atod-project/atod/alerts"
)

// Admit implements alerts.Ledger with the semantics of the Redis script:
// a decision is judged once; a cooldown refuses before the window is
// counted; the first refusal of a full window reports a trip, and so does
// every later answer for that decision, so that a caller that failed to
// raise the trip's alert raises it when it tries the decision again.
func (m *Memory) Admit(_ context.Context, r alerts.AdmitRequest) (alerts.Admission, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prune(r.Now)
	if d, ok := m.decisions[r.Decision]; ok {
		return alerts.Admission{Verdict: d.verdict, Duplicate: true, Tripped: d.tripped}, nil
	}
	user := r.Tenant + "\x00" + strings.ToLower(r.User)
	verdict, tripped := alerts.VerdictAllowed, false
	if until, ok := m.cooldown[user]; ok && r.Now.Before(until) {
		verdict = alerts.VerdictCooldown
	} else {
		w := m.windows[r.Tenant]
		kept := w.times[:0]
		for _, t := range w.times {
			if r.Now.Sub(t) < r.Window {
				kept = append(kept, t)
			}
		}
		if len(kept) >= r.Max {
			verdict = alerts.VerdictRateLimited
			if until, ok := m.trips[r.Tenant]; !ok || !r.Now.Before(until) {
				tripped = true
				m.trips[r.Tenant] = r.Now.Add(r.Window)
			}
		} else {
			kept = append(kept, r.Now)
			if r.Cooldown > 0 {
				m.cooldown[user] = r.Now.Add(r.Cooldown)
			}
		}
		m.windows[r.Tenant] = memWindow{times: kept, length: r.Window}
	}
	m.decisions[r.Decision] = memDecision{verdict: verdict, tripped: tripped, at: r.Now}
	return alerts.Admission{Verdict: verdict, Tripped: tripped}, nil
}
