package ingest

import (
	"hash/maphash"
	"sync/atomic"
)

// Interning: some strings of an event repeat from one event to the next (a
// handful of user agents, tenants and sources), and copying them for every
// event was a large share of the bytes the parser allocated, and so of the
// work of the collector, which scans the detector's large heap each time
// those bytes add up. An intern table hands out the copy it made for an
// earlier event instead.
//
// A table is a fixed array of slots, each holding the last string stored
// under its hash: memory is bounded whatever the input, a lookup is one
// hash and one comparison, and a string that has not come back for a while
// is simply overwritten. The slots are atomic so that every parsing
// goroutine shares one table without a lock; the strings they point to are
// never changed once stored. Values longer than maxInterned are not kept,
// so that hostile input cannot make the tables hold much memory.
type internTable struct {
	slots []atomic.Pointer[string]
	mask  uint64
}

// maxInterned is the longest string a table keeps: most user agents fit.
// It must not exceed MaxIDLen, since interned identifiers are not shortened
// (the array length below is negative otherwise, which does not compile).
const maxInterned = 256

var _ [MaxIDLen - maxInterned]struct{}

// fieldValues is the table of the strings most events share: user agent,
// tenant and source; at most 1024 × maxInterned bytes. Users are not
// interned: with many accounts active at once, a lookup missed the CPU
// caches and cost more than the allocation it saved (measured with 100k
// accounts).
var (
	internSeed  = maphash.MakeSeed()
	fieldValues = newInternTable(1 << 10)
)

// newInternTable returns a table of n slots, a power of two.
func newInternTable(n int) *internTable {
	return &internTable{slots: make([]atomic.Pointer[string], n), mask: uint64(n - 1)}
}

// intern returns b as a string: the table's copy when it has one, else a
// new one that the table then keeps.
func (t *internTable) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxInterned {
		return string(b)
	}
	slot := &t.slots[maphash.Bytes(internSeed, b)&t.mask]
	if p := slot.Load(); p != nil && *p == string(b) {
		return *p
	}
	s := string(b)
	slot.Store(&s)
	return s
}
