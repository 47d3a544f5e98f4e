package detector

import (
	"slices"
	"time"
)

// heldSet is the states of one kind (accounts, or addresses) that a
// WriteBehind holds, by key, in two generations: young, where every state
// a Load hands out is, and old, dropped at the next ageing unless loaded
// again first.
type heldSet[K comparable, S any] struct {
	key        func(*S) K
	young, old map[K]*held[S]
	// touched are the entries loaded since the last write was sent, each
	// once; dirty counts those of them a Save passed.
	touched []*held[S]
	dirty   int

	out     []*S       // Load's answer, reused
	entries []*held[S] // the entry of each state in out
	inOld   []bool     // whether entries[i] was found in old
	miss    []K        // keys of the last lookup not held
	missAt  []int
}

type held[S any] struct {
	s              *S
	touched, dirty bool
}

func newHeldSet[K comparable, S any](key func(*S) K) heldSet[K, S] {
	return heldSet[K, S]{key: key, young: make(map[K]*held[S]), old: make(map[K]*held[S])}
}

// ready makes room for a lookup of n keys.
func (h *heldSet[K, S]) ready(n int) {
	h.out = slices.Grow(h.out[:0], n)[:n]
	h.entries = slices.Grow(h.entries[:0], n)[:n]
	h.inOld = slices.Grow(h.inOld[:0], n)[:n]
	h.miss, h.missAt = h.miss[:0], h.missAt[:0]
}

// peek is a lookup's first step for keys[lo:hi], after ready: it finds
// each key's entry, if held, and notes the generation. It only reads the
// maps, so that two ranges may be peeked at once (see WriteBehind.Load).
func (h *heldSet[K, S]) peek(keys []K, lo, hi int) {
	for i := lo; i < hi; i++ {
		e := h.young[keys[i]]
		h.inOld[i] = false
		if e == nil {
			e = h.old[keys[i]]
			h.inOld[i] = e != nil
		}
		h.entries[i] = e
	}
}

// lookup returns, after ready and peek, the held state of each key,
// moving those found in old to young, and nil for those not held, which
// it lists in h.miss (and their indexes in h.missAt). The slice is reused
// by the next lookup.
func (h *heldSet[K, S]) lookup(keys []K) []*S {
	out := h.out
	for i, k := range keys {
		e := h.entries[i]
		if e == nil {
			out[i] = nil
			h.miss, h.missAt = append(h.miss, k), append(h.missAt, i)
			continue
		}
		if h.inOld[i] {
			delete(h.old, k)
			h.young[k] = e
		}
		h.touch(e)
		out[i] = e.s
	}
	return out
}

// adopt holds the states loaded for the last lookup's misses and puts them
// in its answer.
func (h *heldSet[K, S]) adopt(loaded []*S) {
	for j, s := range loaded {
		e := &held[S]{s: s}
		h.young[h.miss[j]] = e
		h.touch(e)
		h.out[h.missAt[j]], h.entries[h.missAt[j]] = s, e
	}
}

func (h *heldSet[K, S]) touch(e *held[S]) {
	if !e.touched {
		e.touched = true
		h.touched = append(h.touched, e)
	}
}

// markDirty notes states a Save passed. The engine saves states of the
// last Load, in its order, some left out: they are found by walking that
// Load's answer alongside, without hashing a key each, which took a fifth
// of the detector's time in a replay; any other, by key.
func (h *heldSet[K, S]) markDirty(states []*S) {
	i := 0
	for _, s := range states {
		for i < len(h.out) && h.out[i] != s {
			i++
		}
		var e *held[S]
		if i < len(h.out) {
			e = h.entries[i]
		} else if e = h.young[h.key(s)]; e == nil || e.s != s {
			continue
		}
		if !e.dirty {
			e.dirty = true
			h.dirty++
		}
	}
}

// split returns the states touched since the last write was sent, those
// changed and those only read, and starts a new window.
func (h *heldSet[K, S]) split() (changed, read []*S) {
	for _, e := range h.touched {
		if e.dirty {
			changed = append(changed, e.s)
		} else {
			read = append(read, e.s)
		}
		e.touched, e.dirty = false, false
	}
	clear(h.touched)
	h.touched, h.dirty = h.touched[:0], 0
	return changed, read
}

// age makes the young generation old, dropping the old one. The entries
// of the window in progress stay young: a Save looks for them there, and
// they must not be dropped while a batch may change them.
func (h *heldSet[K, S]) age() {
	clear(h.old)
	h.young, h.old = h.old, h.young
	for _, e := range h.touched {
		k := h.key(e.s)
		delete(h.old, k)
		h.young[k] = e
	}
}

// expire drops the entries, but those of the window in progress, whose
// state was last seen more than retention before newest. Their stored
// copy is the same state, so a later Load reads it back: only memory, and
// personal data past its retention, are given up.
func (h *heldSet[K, S]) expire(newest time.Time, retention time.Duration, seen func(*S) time.Time) {
	for _, m := range []map[K]*held[S]{h.young, h.old} {
		for k, e := range m {
			if !e.touched && expired(seen(e.s), newest, retention) {
				delete(m, k)
			}
		}
	}
}

func (h *heldSet[K, S]) len() int { return len(h.young) + len(h.old) }
