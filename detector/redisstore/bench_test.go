package redisstore

import (
	"context"
	"net"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/storetest"
	"github.com/atod-project/atod/enrich"
)

// Figures for BENCHMARKS.md:
//
//	go test ./detector/redisstore -run '^$' -bench 'Replay|Memory' -benchtime 20x
//
// BenchmarkReplayMemory, BenchmarkReplayRedis (Save per batch, as live
// mode does) and BenchmarkReplayRedisWriteBehind (as replay does) replay
// the demo tenant through the same pipeline; events/s is the figure to
// compare. The Redis
// one also reports round trips per 1000 events, counted by a go-redis hook
// (a pipeline is one round trip). BenchmarkRedisMemory reports what Redis
// spends per account and per address: INFO used_memory before and after a
// replay, with the address keys deleted in between to tell the two apart
// (B/account, B/address), and Redis's own MEMORY USAGE per key (usage-B).
// INFO is read with every other connection closed, and without the script
// cache: clients' buffers grow with replies, not keys (by some 40 KB in
// this replay, 100 B/account), and INFO counts them late.
// The averages include the organisation's pseudo-account and the accounts
// that attacks tried but that do not exist.

func benchEvents(b *testing.B) []enrich.Event {
	b.Helper()
	return storetest.DemoEvents(b)
}

func reportRate(b *testing.B, events int, elapsed time.Duration) {
	b.ReportMetric(float64(events*b.N)/elapsed.Seconds(), "events/s")
}

func BenchmarkReplayMemory(b *testing.B) {
	events := benchEvents(b)
	cfg := detector.DefaultConfig()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		storetest.Replay(b, cfg, detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention), events)
	}
	reportRate(b, len(events), time.Since(start))
}

// roundTrips counts what the client sends: one per command, one per
// pipeline; dials count one each, and the commands that set a new
// connection up are part of them.
type roundTrips struct{ n atomic.Int64 }

func (c *roundTrips) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c.n.Add(1)
		return next(ctx, network, addr)
	}
}

func (c *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !connectionSetup(cmd) {
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (c *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && !connectionSetup(cmds[0]) {
			c.n.Add(1)
		}
		return next(ctx, cmds)
	}
}

func connectionSetup(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "client", "auth", "select":
		return true
	}
	return false
}

// BenchmarkReplayRedis replays the tenant with the default local cache
// and reports its hit ratio too (see benchReplayRedis).
func BenchmarkReplayRedis(b *testing.B) {
	benchReplayRedis(b, DefaultLocalCacheEntries, false)
}

// BenchmarkReplayRedisWriteBehind replays the tenant as atod replay does
// with Redis: through a WriteBehind, one write at the end.
func BenchmarkReplayRedisWriteBehind(b *testing.B) {
	benchReplayRedis(b, DefaultLocalCacheEntries, true)
}

func BenchmarkRedisMemory(b *testing.B) {
	srv := startRedis(b)
	events := benchEvents(b)
	cfg := detector.DefaultConfig()
	ctx := context.Background()
	for range b.N {
		admin := redis.NewClient(&redis.Options{Addr: srv.addr()})
		if err := admin.FlushAll(ctx).Err(); err != nil {
			b.Fatal(err)
		}
		admin.Close()
		before := usedMemory(b, srv.addr())
		store := newTestStore(b, testConfig([]string{srv.addr()}, "atod:"))
		storetest.Replay(b, cfg, store, events)
		store.Close()
		all := usedMemory(b, srv.addr())
		admin = redis.NewClient(&redis.Options{Addr: srv.addr()})
		users, userBytes, userUsage := keysOf(b, admin, "atod:u:*")
		addrs, addrBytes, addrUsage := keysOf(b, admin, "atod:a:*")
		if err := admin.Del(ctx, addrs...).Err(); err != nil {
			b.Fatal(err)
		}
		admin.Close()
		onlyUsers := usedMemory(b, srv.addr())
		b.ReportMetric(float64(onlyUsers-before)/float64(len(users)), "B/account")
		b.ReportMetric(float64(all-onlyUsers)/float64(len(addrs)), "B/address")
		b.ReportMetric(float64(userUsage)/float64(len(users)), "usage-B/account")
		b.ReportMetric(float64(addrUsage)/float64(len(addrs)), "usage-B/address")
		b.ReportMetric(float64(userBytes)/float64(len(users)), "value-B/account")
		b.ReportMetric(float64(addrBytes)/float64(len(addrs)), "value-B/address")
		b.ReportMetric(float64(len(users)), "accounts")
		b.ReportMetric(float64(len(addrs)), "addresses")
	}
}

var memoryLine = regexp.MustCompile(`(?m)^(used_memory|used_memory_scripts|connected_clients):(\d+)`)

// usedMemory is what the server at addr has allocated, less its script
// cache, read once the connection asking is its only client: a client
// costs tens of KB of buffers, which INFO reports late (mem_clients_normal
// is updated by a timer).
func usedMemory(b *testing.B, addr string) int64 {
	b.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 1})
	defer c.Close()
	for wait := time.Millisecond; ; wait *= 2 {
		info, err := c.Info(context.Background(), "memory", "clients").Result()
		if err != nil {
			b.Fatal(err)
		}
		m := make(map[string]int64)
		for _, l := range memoryLine.FindAllStringSubmatch(info, -1) {
			m[l[1]], _ = strconv.ParseInt(l[2], 10, 64)
		}
		if len(m) != 3 {
			b.Fatalf("INFO memory, clients: %d of used_memory, used_memory_scripts, connected_clients", len(m))
		}
		if m["connected_clients"] == 1 {
			return m["used_memory"] - m["used_memory_scripts"]
		}
		if wait > time.Second {
			b.Fatalf("%d clients still connected", m["connected_clients"])
		}
		time.Sleep(wait)
	}
}

// keysOf lists the keys matching pattern, the total length of their
// values and what MEMORY USAGE says they take.
func keysOf(b *testing.B, c redis.UniversalClient, pattern string) (keys []string, valueBytes, usage int64) {
	b.Helper()
	ctx := context.Background()
	keys, err := c.Keys(ctx, pattern).Result()
	if err != nil || len(keys) == 0 {
		b.Fatalf("keys %s: %d, %v", pattern, len(keys), err)
	}
	for _, k := range keys {
		n, err := c.StrLen(ctx, k).Result()
		if err != nil {
			b.Fatal(err)
		}
		u, err := c.MemoryUsage(ctx, k, 0).Result()
		if err != nil {
			b.Fatal(err)
		}
		valueBytes += n
		usage += u
	}
	return keys, valueBytes, usage
}
