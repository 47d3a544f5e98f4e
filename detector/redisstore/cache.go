package redisstore

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
// Load takes a key's value out of the cache and Save puts the new one
// back; a key the batch loaded but did not change (the organisation's
// pseudo-account, mostly) goes back as it was, once Save has checked that
// Redis still holds that revision (see readChecks). A value in the cache
// is stale when another instance wrote the key since: the compare-and-set
// of Save then fails on its revision, Save drops the batch's keys, and the
// Pipeline's rerun reads them fresh. Every
// failed Save drops its keys, so that after a Save whose outcome is unknown
// the next Load reads Redis and resolves the pending writes (see
// pendingWrite).
//
// The bound is an entry count, kept with two generations: entries go into
// cur, and when cur holds half the bound it becomes old, and the old old is
// emptied and reused. A key used again is taken out and put back into cur,
// so what survives is what was saved in the last half to whole bound of
// writes, about least recently used, with no bookkeeping per hit and no
// allocation but the value's once both maps have grown. The caller holds
// Store.mu.
type stateCache struct {
	max, gen int // entries at most, in both maps together; entries of cur before it ages
	cur, old map[string][]byte

	hits, misses int64
}

// newStateCache returns a cache of at most max entries, or nil for 0.
func newStateCache(max int) *stateCache {
	if max <= 0 {
		return nil
	}
	return &stateCache{max: max, gen: (max + 1) / 2,
		cur: make(map[string][]byte), old: make(map[string][]byte)}
}

// take removes key's value and returns it; nil if the cache had none.
func (c *stateCache) take(key string) []byte {
	raw, ok := c.cur[key]
	if ok {
		delete(c.cur, key)
	} else if raw, ok = c.old[key]; ok {
		delete(c.old, key)
	}
	if ok {
		c.hits++
	} else {
		c.misses++
	}
	return raw
}

// put adds or replaces key's value (revision, format and body, as the key
// holds it), aging or dropping older entries first when the cache is full.
func (c *stateCache) put(key string, raw []byte) {
	delete(c.old, key)
	if _, ok := c.cur[key]; !ok {
		for len(c.cur) >= c.gen || len(c.cur)+len(c.old) >= c.max {
			if len(c.cur) == 0 { // a bound of 1: no room for an old generation
				clear(c.old)
				break
			}
			clear(c.old)
			c.cur, c.old = c.old, c.cur
		}
	}
	c.cur[key] = raw
}

// drop removes key's value, if any.
func (c *stateCache) drop(key string) {
	delete(c.cur, key)
	delete(c.old, key)
}

func (c *stateCache) len() int { return len(c.cur) + len(c.old) }
