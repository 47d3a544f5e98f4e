package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
)

// BenchmarkRunScaleOut measures how atod run scales out (issue 9): the
// events/s that one atod process drains from a pre-filled topic, then two
// processes in one consumer group, in the same run, with state in Redis
// (pseudonymised keys) and a group and key prefix of their own per
// measurement. The rate counts from the moment every process is a member
// of the stable group (start-up and the first rebalance left out) until
// the group has committed every partition to its end.
//
// It also reports the CPU per event of the atod processes (rusage) and of
// redis-server (INFO cpu), its calls per event and its memory per key:
// docs/scale.md sizes a deployment from them. (The share of writes the
// compare-and-set refused was derived from the script's GETs; it reads
// with one MGET now, and INFO commandstats no longer tells.) The broker, Redis and
// the atod processes share this machine's cores, so on 2 cores a second
// instance cannot add much: CPU per event is the figure to scale by.
//
// Two workloads: liveBenchEvents as it is, whose failed sign-ins come from
// 250 addresses that all accounts share (an attack across all partitions:
// both instances write the same address states, and the organisation's
// spray memory), and the same with each failure from the account's own
// address (only the organisation's first-sign-in count is shared).
// ATOD_SCALE_EVENTS sets the number of events (default 300,000),
// ATOD_SCALE_ACCOUNTS the number of accounts (default 20,000).
func BenchmarkRunScaleOut(b *testing.B) {
	for _, addrs := range []string{"shared", "own"} {
		b.Run("addresses="+addrs, func(b *testing.B) { benchScaleOut(b, addrs == "own") })
	}
}

func benchScaleOut(b *testing.B, ownAddrs bool) {
	n, accounts := envInt(b, "ATOD_SCALE_EVENTS", 300_000), envInt(b, "ATOD_SCALE_ACCOUNTS", 20_000)
	rs := startRedis(b)
	broker := startKafka(b, 8)
	lines := liveBenchEvents(n, accounts, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), 2000)
	if ownAddrs {
		ownAddresses(lines)
	}
	for len(lines) > 0 { // in parts: produce gives each call 30 seconds
		part := lines[:min(len(lines), 50_000)]
		produce(b, broker, part, userKey)
		lines = lines[len(part):]
	}
	b.ResetTimer()
	for i := range b.N {
		one := drainWith(b, broker, rs.addr, 1, fmt.Sprintf("scale%d-one", i), n)
		two := drainWith(b, broker, rs.addr, 2, fmt.Sprintf("scale%d-two", i), n)
		b.ReportMetric(one.rate, "1inst_events/s")
		b.ReportMetric(two.rate, "2inst_events/s")
		b.ReportMetric(two.rate/one.rate, "ratio")
		b.ReportMetric(one.atodCPU, "1inst_atod_cpu_us/event")
		b.ReportMetric(two.atodCPU, "2inst_atod_cpu_us/event")
		b.ReportMetric(one.redisCPU, "1inst_redis_cpu_us/event")
		b.ReportMetric(two.redisCPU, "2inst_redis_cpu_us/event")
		b.ReportMetric(one.roundTrips, "1inst_redis_calls/1k_events")
		b.ReportMetric(two.roundTrips, "2inst_redis_calls/1k_events")
		b.ReportMetric(one.bytesPerKey, "redis_B/key")
		b.ReportMetric(one.keys, "redis_keys")
	}
}

// ownAddresses moves the failed sign-ins of liveBenchEvents from the 250
// attacker addresses that all accounts share to each account's own
// address, so that no address state is written from two partitions.
func ownAddresses(lines [][]byte) {
	shared, user := []byte(`"ip":"203.0.113.`), []byte(`"user":"user`)
	for i, l := range lines {
		at := bytes.Index(l, shared)
		if at < 0 {
			continue
		}
		u0 := bytes.Index(l, user) + len(user)
		u, err := strconv.Atoi(string(l[u0 : u0+bytes.IndexByte(l[u0:], '@')]))
		if err != nil {
			panic(fmt.Sprintf("ownAddresses: no account number in %s", l))
		}
		end := at + len(shared) + bytes.IndexByte(l[at+len(shared):], '"')
		own := fmt.Appendf(nil, `%s"ip":"198.18.%d.%d%s`, l[:at], u/250, 1+u%250, l[end:])
		lines[i] = own
	}
}

func envInt(tb testing.TB, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1000 {
		tb.Fatalf("%s=%q: want a number, at least 1000", name, s)
	}
	return v
}

// scaleResult is one measurement of BenchmarkRunScaleOut.
type scaleResult struct {
	rate        float64 // events/s with every instance in the group
	atodCPU     float64 // µs of CPU (user+system) of the atod processes per event
	redisCPU    float64 // µs of redis-server CPU per event
	keys        float64 // keys the measurement added to Redis
	bytesPerKey float64 // Redis used_memory added per key
	roundTrips  float64 // MGETs and script calls per 1,000 events
}

// drainWith starts procs atod processes in consumer group group and waits
// until they have committed the whole topic of n events.
func drainWith(b *testing.B, broker, redisAddr string, procs int, group string, n int) scaleResult {
	b.Helper()
	ctx := context.Background()
	rc := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rc.Close()
	before := redisInfo(b, rc)

	path := writeProcConfig(b, broker, group, redisAddr)
	ps := make([]*atodProc, procs)
	for i := range ps {
		ps[i] = startAtod(b, path, fmt.Sprintf("%s-%d", group, i),
			"ATOD_PSEUDONYM_KEY=scale-bench-pseudonym-key-0123456789", "ATOD_HELPER_LOG_LEVEL=warn")
	}

	client := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 10 * time.Second}
	var t0 time.Time
	var c0 int64
	deadline := time.Now().Add(10 * time.Minute)
	for {
		if time.Now().After(deadline) {
			b.Fatalf("%s: the topic was not committed to its end within 10 minutes", group)
		}
		if t0.IsZero() && groupStable(ctx, client, group, procs) {
			t0, c0 = time.Now(), committedSum(ctx, client, group)
		}
		if allCommitted(b, client, group) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	end := time.Now()
	if t0.IsZero() || c0 >= int64(n)*9/10 {
		b.Fatalf("%s: %d of %d events were committed before the group of %d was stable: make ATOD_SCALE_EVENTS larger",
			group, c0, n, procs)
	}
	var cpu time.Duration
	for i, p := range ps {
		if err := p.stop(); err != nil {
			b.Fatalf("%s-%d: %v", group, i, err)
		}
		cpu += p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
	}
	after := redisInfo(b, rc)
	calls := func(cmd string) float64 { return float64(after.calls[cmd] - before.calls[cmd]) }
	r := scaleResult{
		rate:       float64(int64(n)-c0) / end.Sub(t0).Seconds(),
		atodCPU:    float64(cpu.Microseconds()) / float64(n),
		redisCPU:   (after.cpu - before.cpu) * 1e6 / float64(n),
		keys:       float64(after.keys - before.keys),
		roundTrips: (calls("mget") + calls("evalsha") + calls("eval")) * 1000 / float64(n),
	}
	if r.keys > 0 {
		r.bytesPerKey = float64(after.mem-before.mem) / r.keys
	}
	return r
}

// writeProcConfig writes the config of an atod process in the benchmarks'
// consumer group group, with its Redis keys under the prefix group+":",
// and returns its path.
func writeProcConfig(b *testing.B, broker, group, redisAddr string) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "atod.yaml")
	cfg := fmt.Sprintf(`kafka:
  brokers: [%s]
  group: %s
  session_timeout: 2s
  heartbeat_interval: 200ms
  rebalance_timeout: 5s
redis:
  addrs: [%s]
  key_prefix: "%s:"
ops:
  listen: ""
  shutdown_timeout: 10s
`, broker, group, redisAddr, group)
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// groupStable reports whether group is stable with members members.
func groupStable(ctx context.Context, client *kafka.Client, group string, members int) bool {
	resp, err := client.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
	if err != nil || len(resp.Groups) != 1 || resp.Groups[0].Error != nil {
		return false
	}
	g := resp.Groups[0]
	return g.GroupState == "Stable" && len(g.Members) == members
}

// committedSum is the sum of group's committed offsets over the events
// topic: the events handled, as every partition starts at 0.
func committedSum(ctx context.Context, client *kafka.Client, group string) int64 {
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{testTopic}})
	if err != nil || len(meta.Topics) != 1 {
		return 0
	}
	var parts []int
	for _, p := range meta.Topics[0].Partitions {
		parts = append(parts, p.ID)
	}
	com, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{testTopic: parts}})
	if err != nil || com.Error != nil {
		return 0
	}
	var sum int64
	for _, c := range com.Topics[testTopic] {
		sum += max(c.CommittedOffset, 0)
	}
	return sum
}

// redisFigures is what INFO says about a redis-server's work so far.
type redisFigures struct {
	mem   int64            // used_memory
	cpu   float64          // CPU seconds, user and system
	keys  int64            // DBSIZE
	calls map[string]int64 // per command, from INFO commandstats
	usec  map[string]int64 // per command, the time it ran, likewise
}

func redisInfo(tb testing.TB, rc *redis.Client) redisFigures {
	tb.Helper()
	ctx := context.Background()
	info, err := rc.Info(ctx, "memory", "cpu", "commandstats").Result()
	if err != nil {
		tb.Fatalf("redis INFO: %v", err)
	}
	f := redisFigures{calls: make(map[string]int64), usec: make(map[string]int64)}
	for _, line := range strings.Split(info, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		switch {
		case k == "used_memory":
			f.mem, _ = strconv.ParseInt(v, 10, 64)
		case k == "used_cpu_user", k == "used_cpu_sys":
			c, _ := strconv.ParseFloat(v, 64)
			f.cpu += c
		case strings.HasPrefix(k, "cmdstat_"): // calls=N,usec=...
			cmd := strings.TrimPrefix(k, "cmdstat_")
			f.calls[cmd], f.usec[cmd] = statField(v, "calls"), statField(v, "usec")
		}
	}
	if f.keys, err = rc.DBSize(ctx).Result(); err != nil {
		tb.Fatalf("redis DBSIZE: %v", err)
	}
	return f
}
