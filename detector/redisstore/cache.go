package redisstore

import "time"

// stateCache keeps, per key, the value a successful Save wrote, so that the
// next Load of the key reads no Redis: in a replay most keys of a batch
// were saved by an earlier batch. What a hit saves is Redis's work, the
// transfer and the client's parsing of the MGET reply; the value is still
// decoded, so a hit gives exactly the state a read from Redis would.
//
// Why values and not decoded states: keeping the states themselves (handed
// out on Load and taken back on Save, without copies) saves the decode too,
// but was measured no faster in total (2M events, 100,000 accounts): a few
// hundred thousand long-lived states of pointers and slices cost the
// garbage collector and the CPU caches about what decoding cost, the heap
// grew by some 1.7 KB a state rather than about 0.6 KB a value, and the
// cache would hand out objects the caller must not change after saving
// them. A deep copy costs about half a decode (BenchmarkCacheHit).
//
// Load reads a key's value from the cache and Save puts the new one in
// its place; a key the batch loaded but did not change (the
// organisation's pseudo-account, mostly) is put back as it was, once Save
// has checked that Redis still holds that revision (see readChecks). A
// value in the cache is stale when another instance wrote the key since:
// the compare-and-set of Save then fails on its revision, Save drops the
// batch's keys, and the Pipeline's rerun reads them fresh. Every failed
// Save drops its keys, so that after a Save whose outcome is unknown the
// next Load reads Redis and resolves the pending writes (see
// pendingWrite). A batch that ends before its Save leaves its keys as
// they were, which is what Redis holds.
//
// An entry is also too old to serve once the key may have expired in
// Redis: revisions start again at 1 when another instance creates the key
// anew, so the compare-and-set would take a cached state at a revision
// that happens to match for current, hand out the old state, and overwrite
// the other instance's write. An entry older than maxAge (nine tenths of
// the shorter key TTL, measured from before the value was known current)
// is a miss. The clock is read once per Load (tick), not per key.
//
// The bound is an entry count, kept with generations: each entry carries
// the generation it was last put in, a generation ends after half the
// bound of puts, and then the entries of the generation before it go.
// What survives is what was saved in the last half to whole bound of
// writes, about least recently used. A read is one map lookup and a put
// one assignment: a hot path of a Load and a Save per key per batch, where
// the map is too large for the CPU's caches, and the two generations of
// maps this replaced cost four or five lookups (8 % of the detector's
// goroutine when catching up, BENCHMARKS.md session 10). Ending a
// generation walks the map once, a few steps per put. The caller holds
// Store.mu.
type stateCache struct {
	max, half int // entries at most; puts in a generation
	gen       uint32
	puts      int // in the current generation
	entries   map[string]cacheEntry

	maxAge time.Duration // see above
	start  time.Time     // with its monotonic reading
	clock  time.Duration // since start, as of the last tick

	hits, misses int64
}

type cacheEntry struct {
	raw []byte
	gen uint32
	at  time.Duration // clock when put
}

// newStateCache returns a cache of at most max entries whose keys live
// at least ttl in Redis, or nil for max 0.
func newStateCache(max int, ttl time.Duration) *stateCache {
	if max <= 0 {
		return nil
	}
	return &stateCache{max: max, half: (max + 1) / 2, entries: make(map[string]cacheEntry),
		maxAge: ttl / 10 * 9, start: time.Now()}
}

// tick reads the clock for the gets and puts that follow.
func (c *stateCache) tick() { c.clock = time.Since(c.start) }

// get returns key's value; nil if the cache has none, or none young
// enough.
func (c *stateCache) get(key string) []byte {
	e, ok := c.entries[key]
	if ok && c.clock-e.at > c.maxAge {
		delete(c.entries, key)
		ok = false
	}
	if !ok {
		c.misses++
		return nil
	}
	c.hits++
	return e.raw
}

// put adds or replaces key's value (revision, format and body, as the key
// holds it), ending a generation first when the current one is full.
func (c *stateCache) put(key string, raw []byte) {
	if c.puts >= c.half || len(c.entries) >= c.max {
		c.age()
	}
	c.entries[key] = cacheEntry{raw: raw, gen: c.gen, at: c.clock}
	c.puts++
}

// age ends the current generation: the entries of the one before go.
func (c *stateCache) age() {
	for k, e := range c.entries {
		if e.gen != c.gen {
			delete(c.entries, k)
		}
	}
	c.gen++
	c.puts = 0
	if len(c.entries) >= c.max { // a bound of 1: no room for an older generation
		clear(c.entries)
	}
}

// drop removes key's value, if any.
func (c *stateCache) drop(key string) {
	delete(c.entries, key)
}

func (c *stateCache) len() int { return len(c.entries) }
