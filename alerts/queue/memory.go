// Package queue holds the durable work of alerts: the Queue of deliveries
// and revocations, and the Ledger behind the safety limits. Redis keeps
// both across restarts and shares them between instances (live mode);
// Memory keeps them in the process, for replay and tests. Both implement
// the same contracts (alerts.Queue, alerts.Ledger) and pass one test
// suite.
package queue

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/atod-project/atod/alerts"
)

// Memory is an in-process Queue and Ledger. Nothing survives the process;
// replay uses it because a replay that is interrupted is simply run again.
type Memory struct {
	now       func() time.Time
	retention time.Duration

	mu      sync.Mutex
	pending map[string]*memEntry
	done    map[string]time.Time // settled job ids, for idempotency, until retention
	leases  uint64
	wake    chan struct{} // closed and replaced when something changes

	decisions map[string]memDecision
	windows   map[string]memWindow // tenant → admitted revocations
	cooldown  map[string]time.Time // tenant/user → end of cooldown
	trips     map[string]time.Time // tenant → end of the window that tripped
}

type memEntry struct {
	job   alerts.Job
	due   time.Time
	lease time.Time // zero: not leased
}

type memDecision struct {
	verdict string
	tripped bool // this decision tripped the limit
	at      time.Time
}

// memWindow is a tenant's revocations within the limit's window.
type memWindow struct {
	times  []time.Time   // when each was admitted, oldest first
	length time.Duration // the window
}

var (
	_ alerts.Queue  = (*Memory)(nil)
	_ alerts.Ledger = (*Memory)(nil)
)

// NewMemory returns an empty queue that remembers settled job ids and
// decisions for retention (0: a day). now nil means time.Now.
func NewMemory(retention time.Duration, now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	if retention <= 0 {
		retention = 24 * time.Hour
	}
	return &Memory{now: now, retention: retention, pending: map[string]*memEntry{}, done: map[string]time.Time{},
		wake: make(chan struct{}), decisions: map[string]memDecision{}, windows: map[string]memWindow{},
		cooldown: map[string]time.Time{}, trips: map[string]time.Time{}}
}

func (m *Memory) signal() {
	close(m.wake)
	m.wake = make(chan struct{})
}

// Enqueue implements alerts.Queue.
func (m *Memory) Enqueue(_ context.Context, j alerts.Job) (bool, error) {
	if !slices.Contains(alerts.AllKinds(), j.Kind) {
		// As Redis does: no Claim would ever hand it out.
		return false, fmt.Errorf("enqueueing job %s: unknown kind %q", j.ID, j.Kind)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.prune(now)
	if _, ok := m.pending[j.ID]; ok {
		return false, nil
	}
	if _, ok := m.done[j.ID]; ok {
		return false, nil
	}
	j.Attempts, j.Lease = 0, ""
	m.pending[j.ID] = &memEntry{job: j, due: now}
	m.signal()
	return true, nil
}

// prune forgets what has ended: settled ids and decisions after the
// retention, and the limits' cooldowns, windows and trips once they are
// over, as their Redis keys expire. They name accounts and tenants, and a
// process without Redis runs for months.
func (m *Memory) prune(now time.Time) {
	for id, at := range m.done {
		if now.Sub(at) > m.retention {
			delete(m.done, id)
		}
	}
	for id, d := range m.decisions {
		if now.Sub(d.at) > m.retention {
			delete(m.decisions, id)
		}
	}
	for user, until := range m.cooldown {
		if !now.Before(until) {
			delete(m.cooldown, user)
		}
	}
	for tenant, w := range m.windows {
		if n := len(w.times); n == 0 || now.Sub(w.times[n-1]) >= w.length {
			delete(m.windows, tenant)
		}
	}
	for tenant, until := range m.trips {
		if !now.Before(until) {
			delete(m.trips, tenant)
		}
	}
}

// Claim implements alerts.Queue.
func (m *Memory) Claim(ctx context.Context, lease time.Duration, kinds ...string) (alerts.Job, error) {
	if len(kinds) == 0 {
		kinds = alerts.AllKinds()
	}
	for {
		if err := ctx.Err(); err != nil {
			return alerts.Job{}, err
		}
		m.mu.Lock()
		now := m.now()
		var best *memEntry
		var bestReady time.Time
		bestRank := len(kinds)
		next := time.Duration(-1)
		for _, e := range m.pending {
			rank := slices.Index(kinds, e.job.Kind)
			if rank < 0 {
				continue
			}
			ready := e.due
			if !e.lease.IsZero() {
				ready = e.lease // leased: available again when the lease expires
			}
			if ready.After(now) {
				if d := ready.Sub(now); next < 0 || d < next {
					next = d
				}
				continue
			}
			if rank < bestRank || (rank == bestRank && ready.Before(bestReady)) {
				best, bestReady, bestRank = e, ready, rank
			}
		}
		if best != nil {
			m.leases++
			best.lease = now.Add(lease)
			best.job.Attempts++
			best.job.Lease = strconv.FormatUint(m.leases, 10)
			j := best.job
			m.mu.Unlock()
			return j, nil
		}
		wake := m.wake
		m.mu.Unlock()
		var timer <-chan time.Time
		var t *time.Timer
		if next >= 0 {
			t = time.NewTimer(next)
			timer = t.C
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
		if err := ctx.Err(); err != nil {
			return alerts.Job{}, err
		}
	}
}

// held returns j's entry if the caller still holds its lease.
func (m *Memory) held(j alerts.Job) (*memEntry, error) {
	e, ok := m.pending[j.ID]
	if !ok || e.job.Lease != j.Lease || e.lease.IsZero() {
		return nil, fmt.Errorf("job %s: %w", j.ID, alerts.ErrLeaseLost)
	}
	return e, nil
}

// Extend implements alerts.Queue.
func (m *Memory) Extend(_ context.Context, j alerts.Job, lease time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.held(j)
	if err != nil {
		return err
	}
	e.lease = m.now().Add(lease)
	return nil
}

// Done implements alerts.Queue.
func (m *Memory) Done(_ context.Context, j alerts.Job) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.held(j); err != nil {
		return err
	}
	delete(m.pending, j.ID)
	m.done[j.ID] = m.now()
	m.signal()
	return nil
}

// Retry implements alerts.Queue.
func (m *Memory) Retry(_ context.Context, j alerts.Job, due time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.held(j)
	if err != nil {
		return err
	}
	e.lease, e.due, e.job.Lease = time.Time{}, due, ""
	m.signal()
	return nil
}

// Pending returns how many jobs are not settled yet.
func (m *Memory) Pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pending)
}

// Drain blocks until every job is settled or ctx is done; replay calls it
// before exiting so that its revocations are carried out. It returns how
// many jobs were left.
func (m *Memory) Drain(ctx context.Context) int {
	for {
		m.mu.Lock()
		n, wake := len(m.pending), m.wake
		m.mu.Unlock()
		if n == 0 {
			return 0
		}
		select {
		case <-ctx.Done():
			return n
		case <-wake:
		}
	}
}
