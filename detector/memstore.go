package detector

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// MemoryStore keeps state in process memory: the default for replay, and for
// a single instance that can afford to forget on restart. Load hands out the
// stored objects themselves, so the engine's changes are in place and Save
// only sweeps out expired state.
type MemoryStore struct {
	userRetention, addrRetention time.Duration

	mu     sync.Mutex
	users  map[string]*UserState
	addrs  map[netip.Addr]*AddrState
	newest time.Time // latest event time saved
	// When each kind was last swept: each every quarter of its own
	// retention, since a sweep touches every state of its kind.
	userSwept, addrSwept time.Time
	userBuf              []*UserState
	addrBuf              []*AddrState
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store that drops state after the given
// retentions of event time.
func NewMemoryStore(userRetention, addrRetention time.Duration) *MemoryStore {
	return &MemoryStore{
		userRetention: userRetention,
		addrRetention: addrRetention,
		users:         make(map[string]*UserState),
		addrs:         make(map[netip.Addr]*AddrState),
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
	for i, name := range users {
		u := m.users[name]
		if u == nil {
			u = &UserState{User: name}
			m.users[name] = u
		}
		us[i] = u
	}
	as := slices.Grow(m.addrBuf[:0], len(addrs))[:len(addrs)]
	m.addrBuf = as
	for i, ip := range addrs {
		a := m.addrs[ip]
		if a == nil {
			a = &AddrState{Addr: ip}
			m.addrs[ip] = a
		}
		as[i] = a
	}
	return us, as, nil
}

// Save implements Store. The states are already stored; Save notes the
// newest event time and, once per quarter of each kind's retention of event
// time, deletes the states of that kind past their retention: memory stays
// bounded by what a retention and a quarter of traffic hold, and a sweep
// over every state is rare. (Sweeping both kinds at the pace of the shorter
// retention cost a third of the detector's time in a 30-day replay; state
// not yet swept is reset on its next event anyway.)
func (m *MemoryStore) Save(ctx context.Context, users []*UserState, addrs []*AddrState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, u := range users {
		if u.Seen.After(m.newest) {
			m.newest = u.Seen
		}
	}
	for _, a := range addrs {
		if a.Seen.After(m.newest) {
			m.newest = a.Seen
		}
	}
	if m.newest.Sub(m.userSwept) >= m.userRetention/4 {
		for k, u := range m.users {
			if u.Seen.IsZero() || expired(u.Seen, m.newest, m.userRetention) {
				delete(m.users, k)
			}
		}
		m.userSwept = m.newest
	}
	if m.newest.Sub(m.addrSwept) >= m.addrRetention/4 {
		for k, a := range m.addrs {
			if a.Seen.IsZero() || expired(a.Seen, m.newest, m.addrRetention) {
				delete(m.addrs, k)
			}
		}
		m.addrSwept = m.newest
	}
	return nil
}

// Len reports how many accounts and addresses the store holds, for tests and
// memory figures.
func (m *MemoryStore) Len() (users, addrs int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.users), len(m.addrs)
}
