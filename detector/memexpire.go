package detector

import (
	"slices"
	"time"
)

// expiring holds the states of one kind (accounts or addresses) for
// MemoryStore, so that expiring them seldom costs a look at every state.
//
// The store behaves as if each sweep (every quarter of the retention of
// event time, see MemoryStore.Save) deleted every state whose Seen is zero
// or past the retention, as an eager pass over the map once did; but that
// pass cost a cache miss per state held, and with a day of addresses held
// it was a sixth of the detector's time. Instead each entry records the
// sweep under which it was last loaded (its epoch). A state changes only
// between its Load and the Save that follows, so an entry loaded before the
// latest sweep still has the Seen that sweep judged, and that sweep deleted
// it if any sweep since its load would have: Load checks it then and hands
// out an empty state instead. Which states the store forgets is thus exactly
// what it was, which matters to events that arrive late.
//
// Memory is freed by a pass over every entry at the first sweep half a
// retention after the last such pass, so a state leaves memory at most
// about a retention and three quarters of event time after its last event
// (a retention until it expires, then up to three quarters of one until the
// next pass), where the eager sweep took a retention and a quarter; and
// after event time jumps by more than half a retention, memory holds only
// what is alive. In a 30-day replay the passes cost about half of what the
// sweeps did. (A pass every retention was 5 % faster on 10M events, but
// kept expired states, personal data, in memory longer, and more of them.)
type expiring[K comparable, S any] struct {
	retention time.Duration
	fresh     func(K) S          // an empty state of key K
	seen      func(*S) time.Time // the state's Seen

	m     map[K]*entry[S]
	epoch uint32    // sweeps so far
	swept time.Time // newest event time at the latest sweep
	freed time.Time // newest event time at the latest pass that freed memory

	// Scratch of find and free; sink keeps free's reads from being
	// optimised away.
	found []*entry[S]
	keys  []K
	sink  int64
}

// entry is a state as the store keeps it. The state is handed out by
// pointer and changed in place by the engine.
type entry[S any] struct {
	epoch uint32 // how many sweeps there had been when the state was last loaded
	state S
}

func newExpiring[K comparable, S any](retention time.Duration, fresh func(K) S, seen func(*S) time.Time) expiring[K, S] {
	return expiring[K, S]{retention: retention, fresh: fresh, seen: seen, m: make(map[K]*entry[S])}
}

// find is the first step of a Load for keys[lo:hi] (see MemoryStore.Load):
// it sets found[i] to the entry of keys[i], made current, or nil when the
// store has none. It only reads the map, and writes only the entries of
// its own keys, so that two ranges of distinct keys may be found at once.
// The map's reads do not wait for each other, so their cache misses
// overlap, and the entries read bring in what the rules read first.
func (x *expiring[K, S]) find(keys []K, found []*entry[S], lo, hi int) {
	for i := lo; i < hi; i++ {
		found[i] = x.m[keys[i]]
	}
	for i := lo; i < hi; i++ {
		if e := found[i]; e != nil && e.epoch != x.epoch {
			if !x.alive(e) {
				e.state = x.fresh(keys[i])
			}
			e.epoch = x.epoch
		}
	}
}

// settle is a Load's second step, after find: it adds the keys the store
// did not hold and sets out[i] to the state of keys[i].
func (x *expiring[K, S]) settle(keys []K, found []*entry[S], out []*S) {
	for i, e := range found {
		if e == nil {
			e = &entry[S]{epoch: x.epoch, state: x.fresh(keys[i])}
			x.m[keys[i]] = e
		}
		out[i] = &e.state
	}
	clear(found)
	x.found = x.found[:0] // free's scratch too
}

// scratch returns room for the entries of n keys.
func (x *expiring[K, S]) scratch(n int) []*entry[S] {
	x.found = slices.Grow(x.found[:0], n)[:n]
	return x.found
}

// alive reports whether the sweeps so far have kept e: whether it was
// loaded since the latest one, or that sweep found it neither empty nor
// expired.
func (x *expiring[K, S]) alive(e *entry[S]) bool {
	if e.epoch == x.epoch {
		return true
	}
	seen := x.seen(&e.state)
	return !seen.IsZero() && !expired(seen, x.swept, x.retention)
}

// sweep expires, as of newest event time now, the states past their
// retention, and once every half retention frees their memory.
func (x *expiring[K, S]) sweep(now time.Time) {
	x.epoch++
	x.swept = now
	if now.Sub(x.freed) >= x.retention/2 {
		x.free()
		x.freed = now
	}
}

// freeChunk is how many entries free reads at once.
const freeChunk = 1024

// free deletes the entries the sweeps expired, a chunk at a time: it lists
// a chunk's entries, reads their Seen in a loop of its own, whose cache
// misses overlap, and only then decides. (A plain loop over the map took
// half again as long.)
func (x *expiring[K, S]) free() {
	for k, e := range x.m {
		x.keys = append(x.keys, k)
		x.found = append(x.found, e)
		if len(x.found) == freeChunk {
			x.freeChunk()
		}
	}
	x.freeChunk()
	x.found, x.keys = nil, nil // a retention until the next pass
}

func (x *expiring[K, S]) freeChunk() {
	var sum int64
	for _, e := range x.found {
		sum += x.seen(&e.state).UnixNano()
	}
	x.sink = sum
	for i, e := range x.found {
		if !x.alive(e) {
			delete(x.m, x.keys[i])
		}
	}
	clear(x.found)
	clear(x.keys)
	x.found, x.keys = x.found[:0], x.keys[:0]
}

// len counts the states the sweeps have kept.
func (x *expiring[K, S]) len() int {
	n := 0
	for _, e := range x.m {
		if x.alive(e) {
			n++
		}
	}
	return n
}
