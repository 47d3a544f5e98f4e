package detector

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/atod-project/atod/detector/internal/halves"
)

// lookupHalvesMin is the fewest keys a Load of MemoryStore or WriteBehind
// looks up in two halves at once; below it one goroutine does.
const lookupHalvesMin = 256

// lookupInHalves runs users over [0, nu) and addrs over [0, na) as one
// range of nu+na split in two halves run at once (see package halves):
// each is called on the part of its range that falls in a half.
func lookupInHalves(nu, na int, users, addrs func(lo, hi int)) {
	halves.Do(nu+na, lookupHalvesMin, func(lo, hi int) {
		if lo < nu {
			users(lo, min(hi, nu))
		}
		if hi > nu {
			addrs(max(lo, nu)-nu, hi-nu)
		}
	})
}

// MemoryStore keeps state in process memory: the default for replay, and for
// a single instance that can afford to forget on restart. Load hands out the
// stored objects themselves, so the engine's changes are in place and Save
// only expires old state.
//
// Memory holds each account and address for at most about a retention and
// three quarters of event time after its last event (see expiring), and
// only what is alive after event time jumps by more than half a retention.
type MemoryStore struct {
	mu     sync.Mutex
	users  expiring[string, UserState]
	addrs  expiring[netip.Addr, AddrState]
	newest time.Time // latest event time saved
	// ceiling, when set, is the latest event time that moves newest: an
	// early event in live mode must not expire every state as of its time.
	ceiling time.Time

	userBuf []*UserState
	addrBuf []*AddrState
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store that drops state after the given
// retentions of event time.
func NewMemoryStore(userRetention, addrRetention time.Duration) *MemoryStore {
	return &MemoryStore{
		users: newExpiring(userRetention,
			func(name string) UserState { return UserState{User: name} },
			func(u *UserState) time.Time { return u.Seen }),
		addrs: newExpiring(addrRetention,
			func(ip netip.Addr) AddrState { return AddrState{Addr: ip} },
			func(a *AddrState) time.Time { return a.Seen }),
	}
}

// Load implements Store. The returned slices are reused by the next Load:
// the engine is done with a batch's states before it loads the next.
func (m *MemoryStore) Load(ctx context.Context, users []string, addrs []netip.Addr) ([]*UserState, []*AddrState, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	us := slices.Grow(m.userBuf[:0], len(users))[:len(users)]
	m.userBuf = us
	as := slices.Grow(m.addrBuf[:0], len(addrs))[:len(addrs)]
	m.addrBuf = as
	// The lookups, most of the replay detector's time in the store, in
	// two halves at once (see package halves): accounts then addresses,
	// split in the middle. Only the map's reads and each key's own entry
	// are touched there; new keys are added after.
	uf, af := m.users.scratch(len(users)), m.addrs.scratch(len(addrs))
	lookupInHalves(len(users), len(addrs),
		func(lo, hi int) { m.users.find(users, uf, lo, hi) },
		func(lo, hi int) { m.addrs.find(addrs, af, lo, hi) })
	m.users.settle(users, uf, us)
	m.addrs.settle(addrs, af, as)
	return us, as, nil
}

// Save implements Store. The states are already stored; Save notes the
// newest event time and, once per quarter of each kind's retention of event
// time, sweeps that kind: states past their retention are expired as of
// then (state not yet expired is reset on its next event anyway). A sweep
// costs little (see expiring), but its pace is kept: which states it
// expires shows in the alerts on events that arrive late.
func (m *MemoryStore) Save(ctx context.Context, users []*UserState, addrs []*AddrState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.newest = latestSeen(m.newest, m.ceiling, users, addrs)
	if m.newest.Sub(m.users.swept) >= m.users.retention/4 {
		m.users.sweep(m.newest)
	}
	if m.newest.Sub(m.addrs.swept) >= m.addrs.retention/4 {
		m.addrs.sweep(m.newest)
	}
	return nil
}

// latestSeen returns the latest of newest and the states' Seen not after
// ceiling (any, when it is zero): the newest event time a store has saved.
func latestSeen(newest, ceiling time.Time, users []*UserState, addrs []*AddrState) time.Time {
	next := func(t time.Time) {
		if t.After(newest) && (ceiling.IsZero() || !t.After(ceiling)) {
			newest = t
		}
	}
	for _, u := range users {
		next(u.Seen)
	}
	for _, a := range addrs {
		next(a.Seen)
	}
	return newest
}

// SetCeiling makes Seen times later than t leave the store's clock alone
// (see Engine.setCeiling).
func (m *MemoryStore) SetCeiling(t time.Time) {
	m.mu.Lock()
	m.ceiling = t
	m.mu.Unlock()
}

// Len reports how many accounts and addresses the store holds, not counting
// those expired but not yet freed, for tests and memory figures. It looks
// at every state.
func (m *MemoryStore) Len() (users, addrs int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.users.len(), m.addrs.len()
}
