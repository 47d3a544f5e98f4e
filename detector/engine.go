package detector

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"go.uber.org/zap"

	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
)

// Engine runs the rules over batches of events in event-time order. It is
// not safe for concurrent use: one goroutine feeds it, which is also what
// keeps each account's events in order.
type Engine struct {
	cfg         Config
	store       Store
	log         *zap.Logger
	neverRevoke map[string]bool

	// Reused between batches to keep the hot path free of allocations:
	// the batch's distinct keys, their states, and per event the indexes of
	// its account, organisation and address states.
	userIdx   map[string]int32
	orgIdx    map[string]int32 // by tenant
	addrIdx   map[netip.Addr]int32
	userKeys  []string
	addrKeys  []netip.Addr
	refs      []stateRefs
	users     []*UserState
	addrs     []*AddrState
	org       *UserState          // the current event's organisation
	orgDirty  map[*UserState]bool // organisations whose state changed in this batch
	saveUsers []*UserState
	// Scratch maps for rules that count distinct values.
	scratchUsers map[string]int
	scratchAddrs map[netip.Addr]int

	stats EngineStats
	// ceiling, when set (live mode), is the latest event time that moves
	// the organisation's clock; see setCeiling.
	ceiling time.Time
	// flight is the batch whose state is being saved ahead, by whichever
	// of the engine's Pipelines ran it (see pipeline_ahead.go).
	flight *inflight
	// spare is a settled batch's inflight, kept for its buffers. One per
	// engine, not per Pipeline: only one batch is in flight at a time, and
	// with live mode's catch-up batches a spare per Kafka partition held
	// a copy of a whole batch's events each (280 MB of 6 partitions'
	// 131,072-event batches, from a heap profile).
	spare *inflight

	// trackPos: see TrackPositions.
	trackPos bool
	stale    staleAfter // cfg.staleAfter(), for forgetStale

	warmSink uint64      // see warm
	agents   agentHashes // see agentHashes
}

// EngineStats counts what the engine did, for progress lines and metrics.
type EngineStats struct {
	Events int64
	Alerts int64
	// Reapplied counts events skipped because their account's state
	// already held them: Kafka records delivered again after a crash.
	Reapplied int64
	// Duplicates counts failed sign-ins skipped because the account held
	// one with the same event id: a source that delivered a record twice
	// (at-least-once delivery, overlapping API pages) must not count it
	// twice towards a brute force.
	Duplicates int64
	ByRule     map[string]int64
}

// NewEngine validates cfg and returns an engine over store.
func NewEngine(cfg Config, store Store, log *zap.Logger) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	never := make(map[string]bool, len(cfg.Policy.NeverRevoke))
	for _, u := range cfg.Policy.NeverRevoke {
		never[ingest.FoldUser(u)] = true
	}
	return &Engine{
		cfg:          cfg,
		store:        store,
		log:          log,
		neverRevoke:  never,
		userIdx:      make(map[string]int32),
		orgIdx:       make(map[string]int32),
		addrIdx:      make(map[netip.Addr]int32),
		orgDirty:     make(map[*UserState]bool),
		scratchUsers: make(map[string]int),
		scratchAddrs: make(map[netip.Addr]int),
		stats:        EngineStats{ByRule: make(map[string]int64)},
		stale:        cfg.staleAfter(),
	}, nil
}

// Stats returns a copy of the engine's counters.
func (e *Engine) Stats() EngineStats {
	s := e.stats
	s.ByRule = make(map[string]int64, len(e.stats.ByRule))
	for k, v := range e.stats.ByRule {
		s.ByRule[k] = v
	}
	return s
}

// Process runs the rules over events, which should come in event-time order
// (from a Sequencer), and appends the alerts they raise to out in the order
// raised. On a store error nothing of the batch is saved and the error is
// returned; the caller may retry the same batch.
func (e *Engine) Process(ctx context.Context, events []enrich.Event, out []Alert) ([]Alert, error) {
	if len(events) == 0 {
		return out, nil
	}
	out, err := e.run(ctx, events, out)
	if err != nil {
		return out, err
	}
	if err := e.store.Save(ctx, e.saveUsers, e.addrs); err != nil {
		return out, fmt.Errorf("saving detector state: %w", err)
	}
	e.stats.Events += int64(len(events))
	return out, nil
}

// run loads the states of the batch and runs the rules over it, leaving
// the states to save in e.saveUsers and e.addrs.
func (e *Engine) run(ctx context.Context, events []enrich.Event, out []Alert) ([]Alert, error) {
	if err := e.load(ctx, events); err != nil {
		return out, err
	}
	for i := range events {
		if i%warmAhead == 0 {
			e.warm(i, min(i+warmAhead, len(events)))
		}
		r := e.refs[i]
		var a *AddrState
		if r.addr >= 0 {
			a = e.addrs[r.addr]
		}
		e.org = e.users[r.org]
		out = e.handle(&events[i], e.users[r.user], a, out)
	}
	// An organisation is saved only when it changed: it is shared by every
	// instance, and a blind write would race with theirs.
	e.saveUsers = e.saveUsers[:0]
	for i, u := range e.users {
		if !isOrgKey(e.userKeys[i]) || e.orgDirty[u] {
			e.saveUsers = append(e.saveUsers, u)
		}
	}
	return out, nil
}

// stateRefs points from one event of the batch to its states.
type stateRefs struct{ user, org, addr int32 }

// load fetches the state of every account, organisation and address in the
// batch, each once.
func (e *Engine) load(ctx context.Context, events []enrich.Event) error {
	clear(e.userIdx)
	clear(e.orgIdx)
	clear(e.addrIdx)
	clear(e.orgDirty)
	e.userKeys, e.addrKeys, e.refs = e.userKeys[:0], e.addrKeys[:0], e.refs[:0]
	for i := range events {
		ev := &events[i]
		r := stateRefs{addr: -1}
		var ok bool
		if r.user, ok = e.userIdx[ev.User]; !ok {
			r.user = int32(len(e.userKeys))
			e.userIdx[ev.User] = r.user
			e.userKeys = append(e.userKeys, ev.User)
		}
		if r.org, ok = e.orgIdx[ev.Tenant]; !ok {
			r.org = int32(len(e.userKeys))
			e.orgIdx[ev.Tenant] = r.org
			e.userKeys = append(e.userKeys, orgKey(ev.Tenant))
		}
		if tracksAddr(ev) {
			key := addrKey(ev.IP)
			if r.addr, ok = e.addrIdx[key]; !ok {
				r.addr = int32(len(e.addrKeys))
				e.addrIdx[key] = r.addr
				e.addrKeys = append(e.addrKeys, key)
			}
		}
		e.refs = append(e.refs, r)
	}
	var err error
	e.users, e.addrs, err = e.store.Load(ctx, e.userKeys, e.addrKeys)
	if err != nil {
		return fmt.Errorf("loading detector state: %w", err)
	}
	return nil
}

// ceilinged is a Store whose clock an event later than the ceiling must
// not move (the memory store, which expires states as of its newest event).
type ceilinged interface{ SetCeiling(time.Time) }

// setCeiling makes event times later than t (an early event: a source
// whose clock runs ahead) count as t for what keeps time across accounts:
// the organisation's spray attempts and a memory store's expiry. Such an
// event still runs with its own time for its account.
func (e *Engine) setCeiling(t time.Time) {
	e.ceiling = t
	if c, ok := e.store.(ceilinged); ok {
		c.SetCeiling(t)
	}
}

// early reports whether ev runs out of order ahead of its time: set apart
// as early when it came (enrich.Event.Early), or later than the ceiling.
func (e *Engine) early(ev *enrich.Event) bool {
	return ev.Early || !e.ceiling.IsZero() && ev.Time.After(e.ceiling)
}

// capped is t, or the ceiling when t is later.
func (e *Engine) capped(t time.Time) time.Time {
	if !e.ceiling.IsZero() && t.After(e.ceiling) {
		return e.ceiling
	}
	return t
}

// tracksAddr reports whether the event's address gets state of its own.
// Trusted networks never count as evidence of attack, so they get none.
// Only sign-ins do: every address rule counts sign-ins, and mailbox
// events, more than half of a tenant's, only moved the address's Seen,
// which kept state alive that no rule could use (all its windows are at
// most addr_retention), at the cost of a lookup, and with Redis a read and
// a write, per event.
func tracksAddr(ev *enrich.Event) bool {
	return ev.Type == ingest.TypeLogin && ev.IP.IsValid() && !ev.Geo.Trusted
}

// handle updates state with one event and runs the rules it concerns.
func (e *Engine) handle(ev *enrich.Event, u *UserState, a *AddrState, out []Alert) []Alert {
	if e.reapplied(ev, u) {
		e.stats.Reapplied++
		return out
	}
	prevSeen := u.Seen
	defer e.markApplied(ev, u, prevSeen)
	if ev.Failed() && u.failedAs(ev.ID) {
		e.stats.Duplicates++
		return out
	}
	e.tendOrg(e.capped(ev.Time))
	if expired(u.Seen, ev.Time, e.cfg.UserRetention) {
		u.reset()
	}
	if ev.Time.After(u.Seen) && !e.early(ev) {
		// An early event (a clock ahead, run out of order) leaves Seen
		// alone: the account's later events would fall outside every
		// window, and the applied marks rest on everything held back
		// being at or after Seen (reapply.go): moved even to the
		// ceiling, it made held events of the account count as applied
		// (found by a review).
		u.Seen = ev.Time
		u.forgetStale(e.stale)
	}
	if a != nil {
		if expired(a.Seen, ev.Time, e.cfg.AddrRetention) {
			a.reset()
		}
		if ev.Time.After(a.Seen) {
			a.Seen = ev.Time
		}
	}
	// Room for the findings of one event on the stack: an append that
	// grew a nil slice was a fifth of onSuccess's time on a tenant of
	// risky sign-ins.
	var room [4]finding
	found := room[:0]
	if f, ok := e.sessionHijack(ev, u); ok {
		found = append(found, f)
	}
	switch {
	case ev.Failed():
		found = e.onFailure(ev, u, a, found)
	case ev.Succeeded():
		found = e.onSuccess(ev, u, a, found)
	case ev.Type == ingest.TypeMailboxAccess:
		if f, ok := e.massMailboxAccess(ev, u); ok {
			found = append(found, f)
		}
	case ev.Type == ingest.TypeInboxRule:
		if f, ok := e.inboxRule(ev, u); ok {
			found = append(found, f)
		}
	}
	for i := range found {
		if al, ok := e.raise(ev, &found[i], u, a); ok {
			out = append(out, al)
			e.stats.Alerts++
			e.stats.ByRule[al.Rule]++
		}
	}
	return out
}

func (e *Engine) onFailure(ev *enrich.Event, u *UserState, a *AddrState, found []finding) []finding {
	u.addFailure(ev, e.cfg.maxUserWindow())
	if a != nil {
		a.addAttempt(ev, false, false, e.cfg.AddrAttack.Window)
		if f, ok := e.addressAttack(ev, a); ok {
			found = append(found, f)
			if len(f.reasons) > 0 { // a new incident, not one extended
				found = e.earlierHits(ev, a, found)
			}
		}
	}
	if f, ok := e.bruteForce(ev, u); ok {
		found = append(found, f)
	}
	if f, ok := e.distributedSpray(ev, u, e.org, a, &u.Failures[len(u.Failures)-1]); ok {
		found = append(found, f)
	}
	return found
}

func (e *Engine) onSuccess(ev *enrich.Event, u *UserState, a *AddrState, found []finding) []finding {
	risk, risky := e.signInRisk(ev, u, e.org)
	var au *AddrUser
	if a != nil {
		au = a.addAttempt(ev, true, e.strangerHere(ev, u, risk.score), e.cfg.AddrAttack.Window)
	}
	if f, ok := e.compromise(ev, u, a, au, risk.score); ok {
		found = append(found, f)
		if au != nil {
			au.Raised = true
		}
	}
	if f, ok := e.mfaFatigue(ev, u); ok {
		found = append(found, f)
	}
	if f, ok := e.impossibleTravel(ev, u); ok {
		found = append(found, f)
	}
	if risky {
		found = append(found, risk)
	}
	// Only a sign-in that raised nothing teaches the account its habits and
	// networks: the attacker's must never become the account's. The last
	// location is kept either way, so the real user's next sign-in is
	// compared with the stranger's.
	worst := 0
	for i := range found {
		worst = max(worst, found[i].score)
	}
	if worst < e.cfg.Policy.AlertScore {
		e.learnHabits(ev, u)
		u.learnNetwork(ev)
	}
	u.learnLocation(ev)
	return found
}
