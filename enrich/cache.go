package enrich

import (
	"math/bits"
	"sync/atomic"
)

// defaultCacheRecords is how many decoded records each database keeps. A
// real City database has a few hundred thousand distinct records, but one
// organisation's sign-ins come from far fewer places; 64k entries cost a few
// MB and hold them all.
const defaultCacheRecords = 1 << 16

// recordCache keeps decoded records by their offset in the database's data
// section (and the Enricher's answers by network, see netKey). Many networks share one record, and the tree walk that finds the
// offset is cheap next to decoding the record (several hundred ns and three
// allocations), so the cache skips exactly the expensive part and cannot go
// stale: a database is immutable while it is open.
//
// It is two-way set-associative: each offset may live in either slot of one
// bucket, and a new record replaces the older-looking of the two. That
// bounds the memory, needs no lock and no eviction bookkeeping, a hit is one
// or two atomic loads, and two records that hash alike do not evict each
// other forever (which cost a direct-mapped cache a few percent of misses
// with only 8k records in 64k slots).
type recordCache[T any] struct {
	slots []atomic.Pointer[cacheEntry[T]]
	shift uint // 64 minus the bits of the bucket count
}

type cacheEntry[T any] struct {
	offset uint64
	value  T
}

// newRecordCache returns a cache of at least n slots (a power of two, two
// or more), or nil for n <= 0; a nil cache misses every time.
func newRecordCache[T any](n int) *recordCache[T] {
	if n <= 0 {
		return nil
	}
	b := max(bits.Len(uint(n-1)), 1) - 1 // bucket bits
	return &recordCache[T]{slots: make([]atomic.Pointer[cacheEntry[T]], 2<<b), shift: uint(64 - b)}
}

// bucket returns the two slots offset may occupy. A Fibonacci hash spreads
// the offsets, which are multiples of small record sizes and would cluster
// by their low bits alone. (With one bucket the shift is 64 and Go shifts
// everything out: bucket 0.)
func (c *recordCache[T]) bucket(offset uint64) (*atomic.Pointer[cacheEntry[T]], *atomic.Pointer[cacheEntry[T]]) {
	i := (offset * 0x9e3779b97f4a7c15) >> c.shift * 2
	return &c.slots[i], &c.slots[i+1]
}

func (c *recordCache[T]) get(offset uint64) (T, bool) {
	if v := c.ref(offset); v != nil {
		return *v, true
	}
	var zero T
	return zero, false
}

// ref is get without the copy: a pointer to the cached value, or nil. The
// value must not be changed. Large values (Geo) are copied once, straight
// to where the caller wants them, instead of through every return.
func (c *recordCache[T]) ref(offset uint64) *T {
	if c == nil {
		return nil
	}
	first, second := c.bucket(offset)
	if e := first.Load(); e != nil && e.offset == offset {
		return &e.value
	}
	if e := second.Load(); e != nil && e.offset == offset {
		return &e.value
	}
	return nil
}

// put stores value in the bucket's first slot and moves what was there to
// the second, so that the second slot holds the older record and is the one
// dropped. Concurrent puts may lose a record; that only costs a later miss.
func (c *recordCache[T]) put(offset uint64, value T) {
	if c == nil {
		return
	}
	first, second := c.bucket(offset)
	if old := first.Swap(&cacheEntry[T]{offset: offset, value: value}); old != nil && old.offset != offset {
		second.Store(old)
	}
}
