package detector

import (
	"context"
	"net/netip"
	"time"
)

// Committer is a remote store that a WriteBehind writes back to. Commit
// encodes users and addrs and moves each to the revision it will have in
// the store; once it returns the states may change. The write happens in
// send, which saves users and addrs and checks that readUsers and
// readAddrs, loaded and not changed, still hold their Revs. A send refused
// because another writer changed a state (ErrConflict) may have written
// part of the states: the caller stops. send may be repeated after an
// error whose outcome is unknown (a connection lost).
type Committer interface {
	Store
	Commit(ctx context.Context, users []*UserState, addrs []*AddrState, readUsers []*UserState, readAddrs []*AddrState) (send func(context.Context) error, err error)
}

// WriteBehind keeps the states of a Committer in process memory between
// batches, and writes them back once per window of batches rather than
// once per batch: a replay with Redis state then pays Redis, and the
// encoding and decoding of values, once per account and address per
// window instead of once per batch that touches them. In a replay most
// keys come back within a window, and each write costs Redis about 3 µs of
// CPU (see BENCHMARKS.md), the most of a replay's cost with Redis.
//
// Save only notes which states changed; CommitAhead writes them while the
// next window runs (see pipeline_window.go). Load hands out the held
// objects themselves, as MemoryStore does. The WriteBehind must be the
// only writer of its states: it loads a state once and then trusts its own
// copy, and a write that finds a state changed by another writer ends the
// run (ErrNotSoleWriter), which replay, its user, is.
//
// Memory is bounded by an entry count, kept with two generations as
// redisstore's value cache is: entries that no batch touched in the last
// half to whole bound of entries are dropped, clean, once a write is
// confirmed (so at most about the bound and a window's states are held);
// and, with ExpireAfter, by the retentions. Not safe for concurrent use:
// one engine per WriteBehind.
type WriteBehind struct {
	base Committer
	gen  int // young entries, of both kinds, before they age

	windowEvents, windowKeys int // see SetWindow

	users heldSet[string, UserState]
	addrs heldSet[netip.Addr, AddrState]

	// See ExpireAfter; newest is the latest Seen saved.
	userRetention, addrRetention time.Duration
	newest                       time.Time
}

var _ Store = (*WriteBehind)(nil)

// NewWriteBehind returns a WriteBehind over base that holds at most about
// maxEntries states (at least 2). A window changes at most half of them
// (or DefaultWindowKeys, if fewer): the states of a window stay held until
// its write, so a small bound means short windows.
func NewWriteBehind(base Committer, maxEntries int) *WriteBehind {
	gen := max(maxEntries, 2) / 2
	return &WriteBehind{
		base:         base,
		gen:          gen,
		windowEvents: DefaultWindowEvents,
		windowKeys:   min(DefaultWindowKeys, gen),
		users:        newHeldSet(func(u *UserState) string { return u.User }),
		addrs:        newHeldSet(func(a *AddrState) netip.Addr { return a.Addr }),
	}
}

// SetWindow changes how many events a window holds at most, and how many
// states it changes at most (at least 1 each); see DefaultWindowEvents.
func (w *WriteBehind) SetWindow(events, keys int) {
	w.windowEvents, w.windowKeys = max(events, 1), max(keys, 1)
}

// ExpireAfter has every confirmed write drop the held states last seen
// more than user (accounts) or addr (addresses) of event time before the
// latest event saved, as MemoryStore forgets them: a replay of months
// holds only what its retentions keep, not every account and address up
// to the entry bound. 0 keeps them until the bound.
func (w *WriteBehind) ExpireAfter(user, addr time.Duration) {
	w.userRetention, w.addrRetention = user, addr
}

// Load implements Store: held states are handed out as they are, the
// others are loaded from the base store in one call. The returned slices
// are reused by the next Load.
func (w *WriteBehind) Load(ctx context.Context, users []string, addrs []netip.Addr) ([]*UserState, []*AddrState, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	// The maps' reads, cache misses on every state held, in two halves
	// at once, as MemoryStore does (see lookupHalvesMin).
	w.users.ready(len(users))
	w.addrs.ready(len(addrs))
	lookupInHalves(len(users), len(addrs),
		func(lo, hi int) { w.users.peek(users, lo, hi) },
		func(lo, hi int) { w.addrs.peek(addrs, lo, hi) })
	us, as := w.users.lookup(users), w.addrs.lookup(addrs)
	if len(w.users.miss)+len(w.addrs.miss) == 0 {
		return us, as, nil
	}
	bu, ba, err := w.base.Load(ctx, w.users.miss, w.addrs.miss)
	if err != nil {
		return nil, nil, err
	}
	w.users.adopt(bu)
	w.addrs.adopt(ba)
	return us, as, nil
}

// Save implements Store: it notes the states as changed, for Commit. The
// states must be ones the last Load handed out. It never fails: the rules
// have already changed the held states in place.
func (w *WriteBehind) Save(_ context.Context, users []*UserState, addrs []*AddrState) error {
	w.users.markDirty(users)
	w.addrs.markDirty(addrs)
	// Replay, the only user, has no clock and so no ceiling.
	w.newest = latestSeen(w.newest, time.Time{}, users, addrs)
	return nil
}

// Dirty reports how many states changed since the last write was sent:
// what the next one writes.
func (w *WriteBehind) Dirty() int { return w.users.dirty + w.addrs.dirty }

// Commit is CommitAhead that waits for the write.
func (w *WriteBehind) Commit(ctx context.Context) error { return w.CommitAhead(ctx)() }

// CommitAhead sends the states changed since the last CommitAhead to the
// base store, and has it check those only read; it returns once they are
// encoded, and wait returns the outcome. The caller waits for one
// CommitAhead before the next. States held may change while the write
// travels: the next window runs on them. After an error of wait the held
// states are not what the store holds: the caller stops.
func (w *WriteBehind) CommitAhead(ctx context.Context) (wait func() error) {
	if len(w.users.touched)+len(w.addrs.touched) == 0 {
		return func() error { return nil }
	}
	su, ru := w.users.split()
	sa, ra := w.addrs.split()
	send, err := w.base.Commit(ctx, su, sa, ru, ra)
	if err != nil {
		return func() error { return err }
	}
	done := make(chan error, 1)
	go func() { done <- send(ctx) }()
	return func() error {
		err := <-done
		if err != nil {
			return err
		}
		// Only now may states be dropped: a Load of one before its
		// write landed would read what it replaces.
		if w.userRetention > 0 {
			w.users.expire(w.newest, w.userRetention, func(u *UserState) time.Time { return u.Seen })
		}
		if w.addrRetention > 0 {
			w.addrs.expire(w.newest, w.addrRetention, func(a *AddrState) time.Time { return a.Seen })
		}
		if len(w.users.young)+len(w.addrs.young) >= w.gen {
			w.users.age()
			w.addrs.age()
		}
		return nil
	}
}

// Len reports how many accounts and addresses are held, for tests and
// memory figures.
func (w *WriteBehind) Len() (users, addrs int) { return w.users.len(), w.addrs.len() }
