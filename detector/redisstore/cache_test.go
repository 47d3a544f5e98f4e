package redisstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/storetest"
	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
)

// The cache never holds more than its bound, and what was put last is
// always there.
func TestStateCacheBound(t *testing.T) {
	for _, max := range []int{1, 2, 3, 10, 1000} {
		c := newStateCache(max, time.Hour)
		for i := range 20 * max {
			key := fmt.Sprint(i % (3*max/2 + 1))
			switch i % 7 {
			case 3:
				c.get(fmt.Sprint(i / 2))
			case 5:
				c.drop(fmt.Sprint(i / 3))
			}
			c.put(key, []byte(key))
			if c.len() > max {
				t.Fatalf("max %d: %d entries after %d puts", max, c.len(), i+1)
			}
			if _, ok := c.entries[key]; !ok {
				t.Fatalf("max %d: the key just put is missing", max)
			}
		}
	}
	if newStateCache(0, time.Hour) != nil {
		t.Error("a bound of 0 keeps a cache")
	}
	// What was put in the last half bound survives; a key read and put
	// back moves to the young generation.
	c := newStateCache(100, time.Hour)
	for i := range 1000 {
		c.put(fmt.Sprint(i), []byte{1})
		if i%10 == 0 {
			if c.get("hot") != nil || i == 0 {
				c.put("hot", []byte{1})
			}
		}
	}
	for i := 950; i < 1000; i++ {
		if c.get(fmt.Sprint(i)) == nil {
			t.Errorf("recent key %d was evicted", i)
		}
	}
	if c.get("hot") == nil {
		t.Error("the key used all along was evicted")
	}
}

// mgetCounter counts the MGETs the client sends.
type mgetCounter struct{ n atomic.Int64 }

func (c *mgetCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *mgetCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "mget" {
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (c *mgetCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// A Load of states this Store saved reads nothing from Redis. Another
// instance writing one of them makes the next Save conflict, and the load
// after the conflict reads the other's write: no update is lost.
func TestCacheConflictWithAnotherInstance(t *testing.T) {
	srv := startRedis(t)
	cfg := testConfig([]string{srv.addr()}, "atod:")
	a, b := newTestStore(t, cfg), newTestStore(t, cfg)
	var mgets mgetCounter
	a.client.AddHook(&mgets)
	ctx := context.Background()
	users := []string{"anna@example.org", "bob@example.org"}
	ip := []netip.Addr{netip.MustParseAddr("198.51.100.9")}

	us, as, err := a.Load(ctx, users, ip)
	if err != nil {
		t.Fatal(err)
	}
	us[0].Logins, us[1].Logins, as[0].AttackRule = 1, 1, "a1"
	if err := a.Save(ctx, us, as); err != nil {
		t.Fatal(err)
	}
	before := mgets.n.Load()
	us2, as2, err := a.Load(ctx, users, ip)
	if err != nil {
		t.Fatal(err)
	}
	if mgets.n.Load() != before || !reflect.DeepEqual(us2, us) || !reflect.DeepEqual(as2, as) || us2[0].Rev != 1 {
		t.Fatalf("second load: %d MGETs, states %+v %+v; want the saved states, from the cache",
			mgets.n.Load()-before, us2, as2)
	}
	// A key loaded and not saved (a batch that ended before its Save)
	// stays cached as Redis holds it: loading it again reads nothing.
	if again, _, err := a.Load(ctx, users[:1], nil); err != nil || mgets.n.Load() != before || again[0].Logins != 1 {
		t.Fatalf("load of a key loaded and not saved: %d MGETs, %v; want the saved state from the cache", mgets.n.Load()-before, err)
	}

	// Instance b changes bob and the address (not as a does: a value that
	// a wrote too would count as a's own).
	bu, ba, err := b.Load(ctx, users[1:], ip)
	if err != nil {
		t.Fatal(err)
	}
	bu[0].Logins += 10
	ba[0].AttackRule += "+b"
	if err := b.Save(ctx, bu, ba); err != nil {
		t.Fatal(err)
	}

	// a's cached states are stale: its Save is refused and changes nothing.
	us2[0].Logins++
	us2[1].Logins++
	as2[0].AttackRule += "+a"
	if err := a.Save(ctx, us2, as2); !errors.Is(err, detector.ErrConflict) {
		t.Fatalf("save over stale cached states: %v, want a conflict", err)
	}
	if a.cache.len() != 0 {
		t.Errorf("%d entries cached after a failed save", a.cache.len())
	}
	// The rerun reads b's write and adds to it.
	us4, as4, err := a.Load(ctx, users, ip)
	if err != nil {
		t.Fatal(err)
	}
	if us4[1].Logins != 11 || as4[0].AttackRule != "a1+b" || us4[0].Logins != 1 {
		t.Fatalf("reload after the conflict: logins %d %d, rule %q; want 1, 11 (b's write), a1+b",
			us4[0].Logins, us4[1].Logins, as4[0].AttackRule)
	}
	us4[0].Logins++
	us4[1].Logins++
	as4[0].AttackRule += "+a"
	if err := a.Save(ctx, us4, as4); err != nil {
		t.Fatal(err)
	}
	check := newTestStore(t, cfg)
	cu, ca, err := check.Load(ctx, users, ip)
	if err != nil {
		t.Fatal(err)
	}
	if cu[0].Logins != 2 || cu[1].Logins != 12 || ca[0].AttackRule != "a1+b+a" {
		t.Errorf("in redis: logins %d %d, rule %q; want 2, 12, a1+b+a", cu[0].Logins, cu[1].Logins, ca[0].AttackRule)
	}
}

// conflictCounter counts the conflicts its Store's Saves meet.
type conflictCounter struct {
	*Store
	conflicts atomic.Int32
}

func (c *conflictCounter) Save(ctx context.Context, us []*detector.UserState, as []*detector.AddrState) error {
	return c.count(c.Store.Save(ctx, us, as))
}

func (c *conflictCounter) SaveAhead(ctx context.Context, us []*detector.UserState, as []*detector.AddrState) func() error {
	wait := c.Store.SaveAhead(ctx, us, as)
	return func() error { return c.count(wait()) }
}

func (c *conflictCounter) count(err error) error {
	if errors.Is(err, detector.ErrConflict) {
		c.conflicts.Add(1)
	}
	return err
}

// Through the Pipeline: instance A sees an account fail twice, B once,
// then A again. A's cached state is stale by B's failure; its save
// conflicts, the batch runs again, and all four failures count.
func TestCacheReplayAfterAnotherInstance(t *testing.T) {
	srv := startRedis(t)
	cfg := testConfig([]string{srv.addr()}, "atod:")
	a := &conflictCounter{Store: newTestStore(t, cfg)}
	b := newTestStore(t, cfg)
	ip := netip.MustParseAddr("105.112.9.9")
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	fail := func(i int) enrich.Event {
		return enrich.Event{Event: ingest.Event{Time: t0.Add(time.Duration(i) * time.Minute),
			User: "anna@example.org", IP: ip, Type: ingest.TypeLogin, Outcome: ingest.OutcomeFailure,
			Reason: ingest.ReasonBadPassword, ID: fmt.Sprintf("ev-%d", i)},
			Geo: enrich.Geo{Kind: enrich.KindPublic, Country: "NG", ASN: 29465}}
	}
	det := detector.DefaultConfig()
	for _, step := range []struct {
		store  detector.Store
		events []enrich.Event
	}{{a, []enrich.Event{fail(0), fail(1)}}, {b, []enrich.Event{fail(2)}}, {a, []enrich.Event{fail(3)}}} {
		if _, err := replay(det, step.store, step.events); err != nil {
			t.Fatal(err)
		}
	}
	if n := a.conflicts.Load(); n != 1 {
		t.Errorf("A met %d conflicts, want 1", n)
	}
	us, as, err := newTestStore(t, cfg).Load(context.Background(), []string{"anna@example.org"}, []netip.Addr{ip})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range us[0].Failures {
		ids = append(ids, f.EventID)
	}
	if got := strings.Join(ids, ","); got != "ev-0,ev-1,ev-2,ev-3" || as[0].Users[0].Failures != 4 {
		t.Errorf("failures in redis: %s, address counts %d; want ev-0 to ev-3 and 4", got, as[0].Users[0].Failures)
	}
}

// boundChecker fails the test when the cache outgrows its bound.
type boundChecker struct {
	*Store
	t   *testing.T
	max int
}

func (c *boundChecker) Save(ctx context.Context, us []*detector.UserState, as []*detector.AddrState) error {
	err := c.Store.Save(ctx, us, as)
	c.check()
	return err
}

func (c *boundChecker) SaveAhead(ctx context.Context, us []*detector.UserState, as []*detector.AddrState) func() error {
	wait := c.Store.SaveAhead(ctx, us, as)
	c.check()
	return func() error {
		err := wait()
		c.check()
		return err
	}
}

func (c *boundChecker) check() {
	c.Store.mu.Lock()
	n := c.Store.cache.len()
	c.Store.mu.Unlock()
	if n > c.max {
		c.t.Errorf("%d entries cached, bound %d", n, c.max)
	}
}

// A cache far smaller than the demo tenant stays within its bound and
// changes no alert.
func TestCacheBoundedReplay(t *testing.T) {
	srv := startRedis(t)
	cfg := testConfig([]string{srv.addr()}, "atod:")
	cfg.LocalCacheEntries = 50
	store := newTestStore(t, cfg)
	events := storetest.DemoEvents(t)
	det := detector.DefaultConfig()
	got := storetest.Replay(t, det, &boundChecker{Store: store, t: t, max: 50}, events)
	storetest.CompareAlerts(t, got, storetest.Replay(t, det, detector.NewMemoryStore(det.UserRetention, det.AddrRetention), events))
	if store.cache.hits == 0 || store.cache.len() == 0 {
		t.Errorf("%d hits, %d entries: the cache was not used", store.cache.hits, store.cache.len())
	}
}

// After a replay, every cached value is exactly what Redis holds.
func TestCacheMatchesRedis(t *testing.T) {
	srv := startRedis(t)
	store := newTestStore(t, testConfig([]string{srv.addr()}, "atod:"))
	storetest.Replay(t, detector.DefaultConfig(), store, storetest.DemoEvents(t))
	if store.cache.hits == 0 || store.cache.len() < 300 {
		t.Fatalf("%d hits, %d entries: the cache was not used", store.cache.hits, store.cache.len())
	}
	ctx := context.Background()
	for key, e := range store.cache.entries {
		held, err := store.client.Get(ctx, key).Bytes()
		if err != nil || !bytes.Equal(e.raw, held) {
			t.Fatalf("key %s: cached %x, redis holds %x (%v)", key, e.raw, held, err)
		}
	}
}

// lostReplyRerun loses the reply of one Save (the write lands, the client
// sees a broken connection, as when Redis dies just after writing) and
// then, instead of repeating the Save as the Retrier would, returns a
// conflict, so that the Pipeline reloads and runs the batch again.
type lostReplyRerun struct {
	*Store
	hitsBeforeSave int64 // cache hits of the Load before the lost Save
	lastLoadHits   int64
	lost           atomic.Bool
}

func (l *lostReplyRerun) Load(ctx context.Context, users []string, addrs []netip.Addr) ([]*detector.UserState, []*detector.AddrState, error) {
	before := l.cache.hits
	us, as, err := l.Store.Load(ctx, users, addrs)
	l.lastLoadHits = l.cache.hits - before
	return us, as, err
}

func (l *lostReplyRerun) Save(ctx context.Context, us []*detector.UserState, as []*detector.AddrState) error {
	return l.lostAsConflict(l.Store.Save(ctx, us, as), l.lastLoadHits)
}

// SaveAhead: the next batch loads before the reply is lost, so the hits
// are the ones of the Load before the save was sent.
func (l *lostReplyRerun) SaveAhead(ctx context.Context, us []*detector.UserState, as []*detector.AddrState) func() error {
	hits := l.lastLoadHits
	wait := l.Store.SaveAhead(ctx, us, as)
	return func() error { return l.lostAsConflict(wait(), hits) }
}

func (l *lostReplyRerun) lostAsConflict(err error, hits int64) error {
	if errors.Is(err, ErrUnavailable) {
		l.hitsBeforeSave = hits
		return fmt.Errorf("%w (lost reply: %w)", detector.ErrConflict, err)
	}
	return err
}

// A Save whose reply is lost after Redis applied it, followed by a rerun of
// the batch from a reload, leaves the same state and raises the same alerts
// as an undisturbed run: the states of the batch, most of them loaded from
// the cache, count their events once.
func TestCacheLostReplyRerun(t *testing.T) {
	srv := startRedis(t)
	events := storetest.DemoEvents(t)
	det := detector.DefaultConfig()

	store := newTestStore(t, testConfig([]string{srv.addr()}, "lost:"))
	l := &lostReplyRerun{Store: store}
	store.client.AddHook(&opHook{around: func(op string, n int64, send func() error, cmds []redis.Cmder) error {
		if op != "save" || n != 8 {
			return send()
		}
		if err := send(); err != nil {
			return err
		}
		l.lost.Store(true)
		for _, c := range cmds {
			c.SetErr(io.ErrUnexpectedEOF)
		}
		return io.ErrUnexpectedEOF
	}})
	got := storetest.Replay(t, det, l, events)
	if !l.lost.Load() || l.hitsBeforeSave == 0 {
		t.Fatalf("lost a reply: %v, after a load with %d cache hits; want a lost reply over cached states", l.lost.Load(), l.hitsBeforeSave)
	}
	storetest.CompareAlerts(t, got, storetest.Replay(t, det, detector.NewMemoryStore(det.UserRetention, det.AddrRetention), events))

	calm := newTestStore(t, testConfig([]string{srv.addr()}, "calm:"))
	storetest.Replay(t, det, calm, events)
	compareBodies(t, store.client, "lost:", "calm:")
}

// compareBodies fails t unless the keys under the two prefixes hold the
// same states, revisions aside.
func compareBodies(t *testing.T, c redis.UniversalClient, prefixA, prefixB string) {
	t.Helper()
	ctx := context.Background()
	bodies := func(prefix string) map[string]string {
		keys, err := c.Keys(ctx, prefix+"*").Result()
		if err != nil || len(keys) == 0 {
			t.Fatalf("keys %s*: %d, %v", prefix, len(keys), err)
		}
		m := make(map[string]string, len(keys))
		for _, k := range keys {
			raw, err := c.Get(ctx, k).Bytes()
			if err != nil {
				t.Fatal(err)
			}
			_, body, err := parseValue(raw)
			if err != nil {
				t.Fatal(err)
			}
			m[strings.TrimPrefix(k, prefix)] = string(body)
		}
		return m
	}
	a, b := bodies(prefixA), bodies(prefixB)
	if len(a) != len(b) {
		t.Errorf("%d keys under %s, %d under %s", len(a), prefixA, len(b), prefixB)
	}
	diff := 0
	for k, v := range a {
		if b[k] != v {
			diff++
		}
	}
	if diff > 0 {
		t.Errorf("%d of %d states differ between %s and %s", diff, len(a), prefixA, prefixB)
	}
}

// The suite passes with the cache turned off too.
func TestConformanceWithoutCache(t *testing.T) {
	srv := startRedis(t)
	var p prefixes
	storetest.Run(t, func(t *testing.T) detector.Store {
		cfg := testConfig([]string{srv.addr()}, p.next(t.Name()))
		cfg.LocalCacheEntries = 0
		return newTestStore(t, cfg)
	})
}

// An entry is served until nine tenths of the key TTL after it was put
// (the key cannot have expired in Redis before), and not after.
func TestCacheEntriesAgeOut(t *testing.T) {
	c := newStateCache(100, time.Hour)
	c.tick()
	c.put("k", []byte("v"))
	c.start = c.start.Add(-53 * time.Minute) // 53 minutes pass
	c.tick()
	if c.get("k") == nil {
		t.Fatal("an entry 53 minutes old (TTL 1h) was not served")
	}
	c.start = c.start.Add(-2 * time.Minute)
	c.tick()
	if c.get("k") != nil {
		t.Fatal("an entry 55 minutes old (TTL 1h) was served: the key may have expired and been created anew")
	}
	if c.len() != 0 {
		t.Errorf("the aged entry is still held")
	}
}
