package redisstore

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/storetest"
	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
)

// BenchmarkReplayRedisCacheOff is BenchmarkReplayRedis with
// redis.local_cache_entries 0: the store as it was before the cache, for
// comparison in the same run.
func BenchmarkReplayRedisCacheOff(b *testing.B) {
	benchReplayRedis(b, 0, false)
}

// benchReplayRedis replays the tenant with a cache of entries, through a
// WriteBehind with writeBehind, and reports the rate, the round trips and,
// with a cache and no WriteBehind, hit-ratio: the share of keys a Load
// took from the cache.
func benchReplayRedis(b *testing.B, entries int, writeBehind bool) {
	srv := startRedis(b)
	events := benchEvents(b)
	cfg := detector.DefaultConfig()
	var p prefixes
	var trips roundTrips
	var elapsed time.Duration
	var hits, misses int64
	for range b.N {
		b.StopTimer()
		c := testConfig([]string{srv.addr()}, p.next("b"))
		c.LocalCacheEntries = entries
		store := newTestStore(b, c)
		store.client.AddHook(&trips)
		var replayed detector.Store = store
		if writeBehind {
			replayed = detector.NewWriteBehind(store, entries)
		}
		b.StartTimer()
		start := time.Now()
		storetest.Replay(b, cfg, replayed, events)
		elapsed += time.Since(start)
		if store.cache != nil {
			hits += store.cache.hits
			misses += store.cache.misses
		}
	}
	reportRate(b, len(events), elapsed)
	b.ReportMetric(float64(trips.n.Load())*1000/float64(len(events)*b.N), "round-trips/1k-events")
	if entries > 0 && !writeBehind {
		b.ReportMetric(float64(hits)/float64(hits+misses), "hit-ratio")
	}
}

// BenchmarkCacheHit compares, on the demo tenant's final states, what a
// load of a key saved before costs with the cache (get+put: the value
// out and back; the decode stays) and what the decoded-state cache that was
// measured against it would have needed: a deep copy per hit or save, or
// nothing but the moves. Figures are per account and address pair, as
// BenchmarkCodec's; decode is the part a hit does not save:
//
//	go test ./detector/redisstore -run '^$' -bench 'CacheHit'
func BenchmarkCacheHit(b *testing.B) {
	us, as, uc, ac := demoCodecs(b)
	keysU, keysA := make([]string, len(us)), make([]string, len(as))
	ub, ab := make([][]byte, len(us)), make([][]byte, len(as))
	c := newStateCache(2*(len(us)+len(as)), time.Hour)
	for i := range us {
		keysU[i] = "u" + us[i].User
		ub[i], _ = uc.appendValue(nil, &us[i])
		c.put(keysU[i], ub[i])
	}
	for i := range as {
		keysA[i] = "a" + as[i].Addr.String()
		ab[i], _ = ac.appendValue(nil, &as[i])
		c.put(keysA[i], ab[i])
	}
	b.Run("get+put", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			ku, ka := keysU[i%len(keysU)], keysA[i%len(keysA)]
			c.put(ku, c.get(ku))
			c.put(ka, c.get(ka))
		}
	})
	b.Run("decode", func(b *testing.B) { benchDecode(b, uc, ac, ub, ab) })
	b.Run("deepcopy", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			u := copyUser(&us[i%len(us)])
			a := copyAddr(&as[i%len(as)])
			_, _ = u, a
		}
	})
}

func copyUser(u *detector.UserState) *detector.UserState {
	c := *u
	c.Failures = slices.Clone(u.Failures)
	c.Known = slices.Clone(u.Known)
	c.Incidents = slices.Clone(u.Incidents)
	c.Countries = slices.Clone(u.Countries)
	c.ASNs = slices.Clone(u.ASNs)
	c.Clients = slices.Clone(u.Clients)
	c.Sessions = slices.Clone(u.Sessions)
	c.Sprays = slices.Clone(u.Sprays)
	c.Applied.AtSeen = slices.Clone(u.Applied.AtSeen)
	return &c
}

func copyAddr(a *detector.AddrState) *detector.AddrState {
	c := *a
	c.Users = slices.Clone(a.Users)
	c.Incidents = slices.Clone(a.Incidents)
	return &c
}

// BenchmarkCacheStream replays a generated stream through the engine with
// Redis state in 8,192-event batches, as atod replay --redis-addr does,
// with and without the cache; CPU/event counts this process and
// redis-server (contention on a shared machine inflates wall time more):
//
//	atogen stream -events 300000 -users 20000 > S.jsonl
//	ATOD_BENCH_STREAM=S.jsonl ATOD_BENCH_GEOIP=DIR go test ./detector/redisstore -run '^$' -bench CacheStream
//
// DIR holds the GeoIP test databases (go run ./cmd/mkgeoip -out DIR).
func BenchmarkCacheStream(b *testing.B) {
	path, dir := os.Getenv("ATOD_BENCH_STREAM"), os.Getenv("ATOD_BENCH_GEOIP")
	if path == "" || dir == "" {
		b.Skip("set ATOD_BENCH_STREAM and ATOD_BENCH_GEOIP")
	}
	enr, err := enrich.New(enrich.Config{City: filepath.Join(dir, "atod-test-City.mmdb"),
		ASN: filepath.Join(dir, "atod-test-ASN.mmdb"), AnonymousIP: filepath.Join(dir, "atod-test-Anonymous-IP.mmdb"),
		TrustedNetworks: []string{"193.175.0.0/20"}}, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var events []enrich.Event
	for line := range bytes.Lines(raw) {
		e, err := ingest.ParseCanonical(bytes.TrimSpace(line))
		if err != nil {
			b.Fatal(err)
		}
		events = append(events, enr.Enrich(e))
	}
	enr.Close()
	srv := startRedis(b)
	cfg := detector.DefaultConfig()
	var p prefixes
	for _, mode := range []struct {
		name    string
		entries int
	}{{"off", 0}, {"cache", DefaultLocalCacheEntries}} {
		b.Run(mode.name, func(b *testing.B) {
			var elapsed, cpu time.Duration
			var hits, misses int64
			for range b.N {
				b.StopTimer()
				c := testConfig([]string{srv.addr()}, p.next("s"))
				c.LocalCacheEntries = mode.entries
				store := newTestStore(b, c)
				runtime.GC()
				b.StartTimer()
				start, cpu0 := time.Now(), processCPU()+redisCPU(b, store)
				eng, err := detector.NewEngine(cfg, store, zap.NewNop())
				if err != nil {
					b.Fatal(err)
				}
				pipe := detector.NewPipeline(eng, func(context.Context, detector.Alert) error { return nil })
				pipe.SetBatchSize(8192)
				for _, e := range events {
					if err := pipe.Push(context.Background(), e); err != nil {
						b.Fatal(err)
					}
				}
				if err := pipe.Flush(context.Background()); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				cpu += processCPU() + redisCPU(b, store) - cpu0
				if store.cache != nil {
					hits += store.cache.hits
					misses += store.cache.misses
				}
			}
			n := float64(len(events) * b.N)
			b.ReportMetric(n/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/event")
			if hits+misses > 0 {
				b.ReportMetric(float64(hits)/float64(hits+misses), "hit-ratio")
			}
		})
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func redisCPU(b *testing.B, s *Store) time.Duration {
	info, err := s.client.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		for _, k := range []string{"used_cpu_sys:", "used_cpu_user:"} {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), k); ok {
				f, _ := strconv.ParseFloat(v, 64)
				total += f
			}
		}
	}
	return time.Duration(total * float64(time.Second))
}

// BenchmarkCacheLarge is a Load's read and a Save's put of one key, in a
// cache of 200,000 keys visited in random order: what a batch of the
// sparse live tenant does per account and address, with a map too large
// for the CPU's caches (the demo tenant's of BenchmarkCacheHit fits):
//
//	go test ./detector/redisstore -run '^$' -bench 'CacheLarge' -count 3
func BenchmarkCacheLarge(b *testing.B) {
	keys := make([]string, 200_000)
	for i := range keys {
		keys[i] = fmt.Sprintf("atod:u:{%016x}", rand.Uint64())
	}
	c := newStateCache(DefaultLocalCacheEntries, time.Hour)
	value := []byte("value")
	for _, k := range keys {
		c.put(k, value)
	}
	order := rand.Perm(len(keys))
	for i := 0; b.Loop(); i++ {
		k := keys[order[i%len(order)]]
		c.put(k, c.get(k))
	}
}
