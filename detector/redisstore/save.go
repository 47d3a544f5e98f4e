package redisstore

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/internal/halves"
)

// casScript writes states if each key still holds the revision loaded:
// for key i, ARGV[3i-2] is the revision's encoding (empty: the key must be
// absent), ARGV[3i-1] the new value, ARGV[3i] the TTL in ms. An empty new
// value only checks the key: the batch read it and wrote nothing to it
// (see readChecks). It returns the (1-based) indexes of the keys that
// changed, and then writes nothing: on one node a whole batch is saved or
// none of it. A key that already holds exactly the new value is our own
// write that landed before a connection broke: it counts as done, so a
// Save can be repeated after an outage.
//
// What a script costs Redis is mostly its redis.call()s, about a
// microsecond each whatever the size of the value, so the current values
// are read with one MGET rather than one GET per key: with 1024 keys of
// 160 bytes, 1.8 µs a key instead of 2.0, against 1.4 for the SETs alone.
// Reading only the revisions (GETRANGE, and GET on a mismatch) makes no
// fewer calls and was measured slower (2.15 µs). unpack() needs a Lua stack
// slot per key: maxScriptKeys is well below Lua's limit of 8000. Unlike
// GET, MGET reads a key of another type (a hash, a list) as absent rather
// than failing; no such key has atod's prefix and pseudonyms.
var casScript = redis.NewScript(casSource)

const casSource = `
local changed = {}
local cur = redis.call('MGET', unpack(KEYS))
for i = 1, #KEYS do
  local c, want, new = cur[i], ARGV[3*i-2], ARGV[3*i-1]
  if c ~= new then
    if want == '' then
      if c then changed[#changed+1] = i end
    elseif not c or string.sub(c, 1, #want) ~= want then
      changed[#changed+1] = i
    end
  end
end
if #changed == 0 then
  for i, key in ipairs(KEYS) do
    if ARGV[3*i-1] ~= '' then
      redis.call('SET', key, ARGV[3*i-1], 'PX', ARGV[3*i])
    end
  end
end
return changed
`

// pendingWrite is a write of a Save that failed (a conflict on another key,
// or a connection lost mid-pipeline) and that may have landed. The batch
// runs again from a reload; if the key then holds exactly what was written,
// Load hands out the state from before the write (at the new revision), so
// the batch's events count once, not twice.
type pendingWrite struct {
	before []byte // body before the write; nil: the key was absent
	wrote  []byte // the value written
}

type write struct {
	key    string
	expect []byte // revision prefix the key must hold; nil: absent
	value  []byte // nil: a check of a key read and not written
	ttl    time.Duration
	rev    *int64 // the state's Rev, updated on success; nil for a check
	newRev int64
	read   []byte // a check's value as loaded, to cache on success
	before []byte // a write's body as loaded (nil: absent), for failed
}

// Save implements detector.Store.
func (s *Store) Save(ctx context.Context, users []*detector.UserState, addrs []*detector.AddrState) error {
	writes, err := s.prepareAll(users, addrs)
	if err != nil || len(writes) == 0 {
		return err
	}
	applied, changed, err := s.compareAndSet(ctx, writes)
	err = outcome(writes, applied, changed, err)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.forgetReads()
	}
	for _, w := range writes {
		if err == nil {
			s.landed(w)
		} else {
			s.failed(w, w.before)
		}
	}
	return err
}

// landed notes a write, or a check, that Redis confirmed, or that a
// SaveAhead counts on; s.mu is held.
func (s *Store) landed(w write) {
	if w.value == nil {
		if s.cache != nil && w.read != nil {
			s.cache.put(w.key, w.read)
		}
		return
	}
	*w.rev = w.newRev
	delete(s.pending, w.key) // a repeated Save that went through
	if s.cache != nil {
		// Its own copy of the value: the arena holds the batch's.
		s.cache.put(w.key, bytes.Clone(w.value))
	}
}

// outcome is a Save's error: compareAndSet's, or a conflict unless every
// write was applied.
func outcome(writes []write, applied, changed []bool, err error) error {
	if err != nil {
		return err
	}
	var conflicts []string
	allApplied := true
	for i, w := range writes {
		allApplied = allApplied && applied[i]
		if changed[i] {
			conflicts = append(conflicts, w.key)
		}
	}
	if allApplied {
		return nil
	}
	first := "none"
	if len(conflicts) > 0 {
		first = conflicts[0]
	}
	return fmt.Errorf("saving %d states: %d changed since loaded, first %s: %w",
		len(writes), len(conflicts), first, detector.ErrConflict)
}

// failed notes a write of a failed Save as pending (it may have landed)
// and drops its key from the cache, so that the next Load reads Redis and
// resolves it; s.mu is held. before is the key's body before the write.
func (s *Store) failed(w write, before []byte) {
	if w.value != nil {
		s.pending[w.key] = pendingWrite{before: before, wrote: w.value}
	}
	if s.cache != nil {
		s.cache.drop(w.key)
	}
}

// prepareAll encodes the states into writes. On an error no key of the
// batch stays cached.
func (s *Store) prepareAll(users []*detector.UserState, addrs []*detector.AddrState) ([]write, error) {
	n := len(users) + len(addrs)
	s.mu.Lock()
	defer s.mu.Unlock()
	// The keys first, in the states' order, in which the finder walks the
	// last Load's answer; then the encoding, in halves (see halvesMin).
	f := s.newLoadFinder()
	found := make([]foundKey, n)
	for i, u := range users {
		found[i].key, found[i].lv = f.user(u)
	}
	for i, a := range addrs {
		found[len(users)+i].key, found[len(users)+i].lv = f.addr(a)
	}
	var parts [2]struct {
		writes []write
		err    error
	}
	halves.Do(n, halvesMin, func(lo, hi int) {
		h := &parts[min(lo, 1)] // the half from 0 in parts[0]
		// One buffer holds every value of the half: a few allocations,
		// not one per state.
		arena := make([]byte, 0, 256*(hi-lo))
		h.writes = make([]write, 0, hi-lo)
		for i := lo; i < hi && h.err == nil; i++ {
			k := found[i]
			if i < len(users) {
				u := users[i]
				arena, h.err = prepare(arena, &h.writes, s.users, u, k.key, k.lv, &u.Rev, s.userTTL)
			} else {
				a := addrs[i-len(users)]
				arena, h.err = prepare(arena, &h.writes, s.addrs, a, k.key, k.lv, &a.Rev, s.addrTTL)
			}
		}
	})
	if err := cmp.Or(parts[0].err, parts[1].err); err != nil {
		s.dropAll(users, addrs)
		return nil, err
	}
	writes := append(parts[0].writes, parts[1].writes...)
	return s.readChecks(writes, f), nil
}

// foundKey is a state's key and what the last Load found there.
type foundKey struct {
	key string
	lv  loadedValue
}

// loadFinder finds the key of each state a Save writes among the last
// Load's, with what the key held then, and notes it as written, so that
// readChecks knows which keys the batch only read. The engine saves states
// of the last Load in its order, some left out: they are found by walking
// that Load's answer alongside, without hashing a name each (with 100,000
// accounts the store's map lookups, cache misses, took about 1 µs an event
// of the live loop in a profile); any other by name.
type loadFinder struct {
	s      *Store
	wrote  []bool         // by index into s.reads
	index  map[string]int // s.reads by key, built for the first state saved out of order
	ui, ai int
}

func (s *Store) newLoadFinder() *loadFinder {
	return &loadFinder{s: s, wrote: make([]bool, len(s.reads))}
}

func (f *loadFinder) user(u *detector.UserState) (string, loadedValue) {
	if i, ok := walk(f.s.lastUsers, &f.ui, u); ok {
		return f.written(i)
	}
	return f.byName(f.s.keys.user(u.User))
}

func (f *loadFinder) addr(a *detector.AddrState) (string, loadedValue) {
	if i, ok := walk(f.s.lastAddrs, &f.ai, a); ok {
		return f.written(len(f.s.lastUsers) + i)
	}
	return f.byName(f.s.keys.addr(a.Addr))
}

// walk finds v in last from *at on, where the walk stopped before, and
// leaves *at there; when v is not there (saved out of order), it starts
// the next walk from the beginning.
func walk[S any](last []*S, at *int, v *S) (int, bool) {
	for *at < len(last) && last[*at] != v {
		*at++
	}
	if *at < len(last) {
		return *at, true
	}
	*at = 0
	return 0, false
}

// written notes the key at index i of the last Load as written and
// returns it with what it held.
func (f *loadFinder) written(i int) (string, loadedValue) {
	f.wrote[i] = true
	return f.s.reads[i], f.s.loaded[i]
}

// byName finds key among the last Load's; a key it did not load held
// nothing this Store knows of.
func (f *loadFinder) byName(key string) (string, loadedValue) {
	if f.index == nil {
		f.index = make(map[string]int, len(f.s.reads))
		for i, k := range f.s.reads {
			f.index[k] = i
		}
	}
	if i, ok := f.index[key]; ok {
		return f.written(i)
	}
	return key, loadedValue{}
}

// readChecks adds to writes a check of each key the batch loaded and does
// not write: the organisation's state, read by every batch and changed by
// few. The read set is the last Load's, and stays until a Save succeeds:
// a Save repeated after an outage checks it too. The check makes a Save
// fail when another instance changed such a key since it was loaded, as
// it does for the keys written, so that no batch's alerts rest on stale
// state; and so the key's value can stay in the cache, where the next
// batch finds it without a round trip (behind the compare-and-set of the
// batch before, in a single-threaded Redis). s.mu is held.
func (s *Store) readChecks(writes []write, f *loadFinder) []write {
	for i, k := range s.reads {
		if !f.wrote[i] {
			lv := s.loaded[i]
			writes = append(writes, write{key: k, expect: revPrefix(lv.rev), read: lv.raw})
		}
	}
	return writes
}

// forgetReads empties the read set once a Save of it succeeded, or a
// SaveAhead sent it (a failure there reruns the batch, which loads
// again); s.mu is held.
func (s *Store) forgetReads() {
	clear(s.reads)
	clear(s.loaded)
	s.reads, s.loaded = s.reads[:0], s.loaded[:0]
	s.lastUsers, s.lastAddrs = nil, nil
}

// prepare encodes one state into arena and adds its write; s.mu is held.
// The revision expected is the state's or, when the rules reset the state
// (and its Rev with it), the one this Store loaded for the key (lv).
func prepare[T any](arena []byte, writes *[]write, c *codec[T], v *T, key string, lv loadedValue, rev *int64, ttl time.Duration) ([]byte, error) {
	cur := *rev
	if cur == 0 {
		cur = lv.rev
	}
	arena, err := encodeWrite(arena, writes, c, v, key, cur, rev, ttl)
	if err == nil {
		(*writes)[len(*writes)-1].before = lv.body
	}
	return arena, err
}

// encodeWrite encodes v into arena, at the revision after cur, and adds
// its write.
func encodeWrite[T any](arena []byte, writes *[]write, c *codec[T], v *T, key string, cur int64, rev *int64, ttl time.Duration) ([]byte, error) {
	start := len(arena)
	arena, err := c.appendValue(appendHeader(arena, cur+1), v)
	if err != nil {
		return arena[:start], fmt.Errorf("encoding %s: %w", key, err)
	}
	*writes = append(*writes, write{key: key, expect: revPrefix(cur), value: arena[start:len(arena):len(arena)],
		ttl: ttl, rev: rev, newRev: cur + 1})
	return arena, nil
}

// dropAll removes the keys of a Save that failed before it was sent from
// the cache, so that no failed Save leaves a key cached; s.mu is held.
func (s *Store) dropAll(users []*detector.UserState, addrs []*detector.AddrState) {
	if s.cache == nil {
		return
	}
	for _, u := range users {
		s.cache.drop(s.keys.user(u.User))
	}
	for _, a := range addrs {
		s.cache.drop(s.keys.addr(a.Addr))
	}
}

// maxScriptKeys bounds the keys of one script call: a script holds the
// whole server while it runs, and a thousand keys take a few milliseconds.
// A bigger batch is saved by several calls in the same round trip.
const maxScriptKeys = 1024

// compareAndSet runs the script over the writes in one round trip and
// reports which were applied and which keys had changed since loaded. On a
// single node it is one call for all (up to maxScriptKeys); Cluster allows
// a script only the keys of one slot, so there it is one call per key, in
// one pipeline. Scripts are sent by hash; a server that lost its script
// cache (a restart) gets the calls that failed again in full.
func (s *Store) compareAndSet(ctx context.Context, writes []write) (applied, changed []bool, err error) {
	var groups [][]int // indexes into writes, one script call each
	size := 1
	if s.single {
		size = maxScriptKeys
	}
	for i := 0; i < len(writes); i += size {
		g := make([]int, 0, min(size, len(writes)-i))
		for j := i; j < min(i+size, len(writes)); j++ {
			g = append(g, j)
		}
		groups = append(groups, g)
	}
	applied, changed = make([]bool, len(writes)), make([]bool, len(writes))
	for attempt := 0; len(groups) > 0; attempt++ {
		pipe := s.client.Pipeline()
		cmds := make([]*redis.Cmd, len(groups))
		for j, g := range groups {
			keys := make([]string, len(g))
			args := make([]any, 0, 3*len(g))
			for k, i := range g {
				w := &writes[i]
				keys[k] = w.key
				args = append(args, w.expect, w.value, w.ttl.Milliseconds())
			}
			if attempt == 0 {
				cmds[j] = casScript.EvalSha(ctx, pipe, keys, args...)
			} else {
				cmds[j] = casScript.Eval(ctx, pipe, keys, args...)
			}
		}
		_, _ = pipe.Exec(ctx) // errors are per command, below
		var again [][]int
		for j, g := range groups {
			idx, err := cmds[j].Int64Slice()
			switch {
			case err == nil:
				for _, i := range g {
					applied[i] = len(idx) == 0
				}
				for _, c := range idx {
					if c < 1 || int(c) > len(g) {
						return applied, changed, fmt.Errorf("saving: the script returned index %d of %d", c, len(g))
					}
					changed[g[c-1]] = true
				}
			case attempt == 0 && isNoScript(err):
				again = append(again, g)
			default:
				return applied, changed, s.redisError(ctx, "save of "+writes[g[0]].key, err)
			}
		}
		groups = again
	}
	return applied, changed, nil
}

func isNoScript(err error) bool { return strings.HasPrefix(err.Error(), "NOSCRIPT") }

// redisError wraps err with what was being done, and with ErrUnavailable
// when waiting may help; the caller's own cancellation wins.
func (s *Store) redisError(ctx context.Context, doing string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("redis %s: %w", doing, ctxErr)
	}
	if unavailable(err) {
		return fmt.Errorf("redis %s: %w: %w", doing, ErrUnavailable, err)
	}
	return fmt.Errorf("redis %s: %w", doing, err)
}

// unavailable reports whether err means Redis cannot serve now but may
// soon: network errors, timeouts, and the replies of a server that is
// loading its data or a Cluster that is reconfiguring.
func unavailable(err error) bool {
	switch {
	case errors.Is(err, redis.ErrClosed):
		return false // closed by us: final
	case isNetworkError(err), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, redis.ErrPoolExhausted),
		redis.IsLoadingError(err), redis.IsClusterDownError(err), redis.IsTryAgainError(err),
		redis.IsMasterDownError(err), redis.IsReadOnlyError(err), redis.IsMaxClientsError(err):
		return true
	}
	return strings.Contains(err.Error(), "cluster has no nodes")
}
