package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/atod-project/atod/detector"
)

// liveBenchEvents returns n canonical events of a tenant of accounts users:
// mostly successful sign-ins from each account's own address, some
// failures, and every thousandth account under a brute-force burst; event
// times advance at rate per second from start.
func liveBenchEvents(n, accounts int, start time.Time, rate float64) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, 0, n)
	for i := range n {
		at := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		u := rng.IntN(accounts)
		outcome, ip := "success", ownAddr(u)
		if u%1000 == 0 || rng.IntN(20) == 0 {
			outcome, ip = "failure", fmt.Sprintf("203.0.113.%d", 1+u%250)
		}
		out = append(out, fmt.Appendf(nil, `{"time":%q,"user":"user%05d@example.org","ip":%q,"type":"login","outcome":%q,"protocol":"imap","id":"b%d"}`,
			at.Format(time.RFC3339Nano), u, ip, outcome, i))
	}
	return out
}

// ownAddr is account u's address, in 198.18.0.0/15 (for benchmarks): one
// of its own for up to 128,000 accounts.
func ownAddr(u int) string {
	u %= 128_000
	if u < 64_000 {
		return fmt.Sprintf("198.18.%d.%d", u/250, 1+u%250)
	}
	u -= 64_000
	return fmt.Sprintf("198.19.%d.%d", u/250, 1+u%250)
}

// BenchmarkRunThroughput measures sustained events/s of atod run (Redis
// state) draining a pre-filled topic, next to plain kafka-go reading the
// same topic from the same broker as a consumer group in the same run.
// ATOD_BENCH_REDIS_RTT puts that round-trip time between atod and Redis;
// ATOD_BENCH_CPUPROFILE=FILE profiles atod's part of the run only (-cpuprofile
// would take in the production of the topic and plain kafka-go's read);
// ATOD_BENCH_EVENTS and ATOD_BENCH_ACCOUNTS set the number of events
// (200,000) and of accounts they spread over (20,000), ATOD_BENCH_CATCH_UP
// kafka.catch_up_events. heap_growth_MB is the most the heap's live and
// not yet collected objects grew while atod ran, sampled: what atod held
// (the broker in this process holds the topic throughout).
// ATOD_BENCH_BROKER=process runs the broker in a process of its own (see
// startKafkaProcess): heap_growth_MB and the CPU profile are then atod's
// and the plain reader's alone.
func BenchmarkRunThroughput(b *testing.B) {
	n := envInt(b, "ATOD_BENCH_EVENTS", 200_000)
	rs := startRedis(b)
	broker := benchKafka(b, 6)
	accounts := envInt(b, "ATOD_BENCH_ACCOUNTS", 20_000)
	produce(b, broker, liveBenchEvents(n, accounts, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), 2000), userKey)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: testTopic, GroupID: fmt.Sprintf("plain%d", i),
			MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 100 * time.Millisecond, CommitInterval: time.Second, StartOffset: kafka.FirstOffset})
		var plainHalf time.Time
		for j := range n {
			if _, err := r.ReadMessage(context.Background()); err != nil {
				b.Fatal(err)
			}
			if j == n/2 {
				plainHalf = time.Now()
			}
		}
		plain := time.Since(start)
		plainSecond := time.Since(plainHalf)
		r.Close()

		cfg := benchRunConfig(broker)
		cfg.Kafka.Group = fmt.Sprintf("atod%d", i)
		if os.Getenv("ATOD_BENCH_MEMORY") == "" {
			cfg.Redis.Addrs, cfg.Redis.AllowPlainKeys = []string{benchRedisAddr(b, rs.addr)}, true
			cfg.Redis.KeyPrefix = fmt.Sprintf("bench%d:", i)
		}
		cfg.Ops.Listen = ""
		if v := os.Getenv("ATOD_BENCH_CATCH_UP"); v != "" {
			cfg.Kafka.CatchUpEvents = envInt(b, "ATOD_BENCH_CATCH_UP", defaultCatchUpEvents)
		}
		peak := sampleHeap()
		redisBefore := redisWork(b, rs.addr)
		start = time.Now()
		if f := os.Getenv("ATOD_BENCH_CPUPROFILE"); f != "" {
			profileCPU(b, f)
		}
		if f := os.Getenv("ATOD_BENCH_TRACE"); f != "" {
			traceRun(b, f)
		}
		stop := startRun(b, cfg)
		client := &kafka.Client{Addr: kafka.TCP(broker)}
		var half, shown time.Time
		var atHalf int64
		timeline := os.Getenv("ATOD_BENCH_TIMELINE") != ""
		for {
			done, ok := committedCount(client, cfg.Kafka.Group)
			if timeline && time.Since(shown) >= time.Second {
				// Where the time goes: what is committed, each second.
				shown = time.Now()
				fmt.Fprintf(os.Stderr, "%5.1f s: %d committed\n", time.Since(start).Seconds(), done)
			}
			if ok && half.IsZero() && done >= int64(n/2) {
				half, atHalf = time.Now(), done
				if f := os.Getenv("ATOD_BENCH_HEAPPROFILE"); f != "" {
					profileHeap(b, f)
				}
			}
			if ok && done >= int64(n) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		live := time.Since(start)
		liveSecond := time.Since(half)
		b.ReportMetric(peak()/1e6, "heap_growth_MB")
		if os.Getenv("ATOD_BENCH_MEMORY") == "" {
			w := redisWork(b, rs.addr).minus(redisBefore)
			b.ReportMetric(w.cpu.Seconds(), "redis_cpu_s")
			b.ReportMetric(w.scripts.Seconds(), "redis_script_s")
			b.ReportMetric(float64(w.sets), "redis_keys_written")
			b.ReportMetric(float64(w.mgets), "redis_mgets")
		}
		pprof.StopCPUProfile()
		trace.Stop()
		if err := stop(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/live.Seconds(), "atod_events/s")
		b.ReportMetric(float64(n)/plain.Seconds(), "kafkago_events/s")
		b.ReportMetric(plain.Seconds()/live.Seconds(), "ratio")
		// The second half of each read: without the group's join and
		// the first sight of every account (with as many events per
		// account as the first half, most are seen by then).
		steady := float64(int64(n)-atHalf) / liveSecond.Seconds()
		steadyPlain := float64(n-n/2-1) / plainSecond.Seconds()
		b.ReportMetric(steady, "atod_2nd_half_events/s")
		b.ReportMetric(steadyPlain, "kafkago_2nd_half_events/s")
		b.ReportMetric(steady/steadyPlain, "2nd_half_ratio")
	}
}

// profileCPU writes a CPU profile to file until pprof.StopCPUProfile.
func profileCPU(b *testing.B, file string) {
	if err := pprof.StartCPUProfile(benchFile(b, file)); err != nil {
		b.Fatal(err)
	}
}

// benchFile creates file for a profile or trace, closed when the
// benchmark ends.
func benchFile(b *testing.B, file string) *os.File {
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}

// redisUse is what a redis-server has done so far: its CPU time (user and
// system), the time its scripts ran (EVAL and EVALSHA), and how many keys
// it wrote (SETs, inside the scripts) and MGETs it answered: a run that
// wrote more keys than another on the same topic reran batches.
type redisUse struct {
	cpu, scripts time.Duration
	sets, mgets  int64
}

func (u redisUse) minus(v redisUse) redisUse {
	return redisUse{u.cpu - v.cpu, u.scripts - v.scripts, u.sets - v.sets, u.mgets - v.mgets}
}

// redisWork reads redisUse from the server at addr (redisInfo), so that a
// benchmark can say how busy Redis was.
func redisWork(b *testing.B, addr string) redisUse {
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	f := redisInfo(b, c)
	return redisUse{
		cpu:     time.Duration(f.cpu * float64(time.Second)),
		scripts: time.Duration(f.usec["eval"]+f.usec["evalsha"]) * time.Microsecond,
		sets:    f.calls["set"],
		mgets:   f.calls["mget"],
	}
}

// statField reads field name of an INFO commandstats value
// ("calls=3,usec=25,...").
func statField(v, name string) int64 {
	for f := range strings.SplitSeq(v, ",") {
		if n, ok := strings.CutPrefix(f, name+"="); ok {
			i, _ := strconv.ParseInt(n, 10, 64)
			return i
		}
	}
	return 0
}

// profileHeap writes a profile of the heap's live objects to file.
func profileHeap(b *testing.B, file string) {
	if err := pprof.Lookup("heap").WriteTo(benchFile(b, file), 0); err != nil {
		b.Fatal(err)
	}
}

// traceRun writes an execution trace to file until trace.Stop: where
// atod's goroutines wait (go tool trace -pprof=sync FILE, and net, syscall).
func traceRun(b *testing.B, file string) {
	if err := trace.Start(benchFile(b, file)); err != nil {
		b.Fatal(err)
	}
}

// sampleHeap samples the heap's objects every 20 ms until the returned
// function is called, which reports their peak above the first sample.
func sampleHeap() (peak func() float64) {
	read := func() float64 {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		metrics.Read(s)
		return float64(s[0].Value.Uint64())
	}
	base, most := read(), 0.0
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			most = max(most, read()-base)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 {
		close(done)
		<-finished
		return most
	}
}

// committedCount is how many records of the test topic group has
// committed: its offsets, summed over the partitions (each starts at 0).
func committedCount(client *kafka.Client, group string) (int64, bool) {
	ctx := context.Background()
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{testTopic}})
	if err != nil || len(meta.Topics) == 0 {
		return 0, false
	}
	var parts []int
	for _, p := range meta.Topics[0].Partitions {
		parts = append(parts, p.ID)
	}
	com, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{testTopic: parts}})
	if err != nil || com.Error != nil {
		return 0, false
	}
	var sum int64
	for _, c := range com.Topics[testTopic] {
		sum += max(c.CommittedOffset, 0)
	}
	return sum, true
}

// BenchmarkRunLatency offers live events at 20,000/s for a few seconds,
// with failed sign-ins against a new victim every 60ms among them, and
// reports the time from
// producing an alert's triggering event to the alert's record on the
// alerts topic (both stamped by this process's clock), at several
// kafka.max_hold values. ATOD_BENCH_MEMORY=1 keeps state in memory.
func BenchmarkRunLatency(b *testing.B) {
	for _, hold := range []time.Duration{0, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond} {
		b.Run(fmt.Sprintf("max_hold=%s", hold), func(b *testing.B) {
			for range b.N {
				p50, p99, n := latencyRun(b, hold, 20_000, 4*time.Second)
				b.ReportMetric(float64(p50.Milliseconds()), "p50_ms")
				b.ReportMetric(float64(p99.Milliseconds()), "p99_ms")
				b.ReportMetric(float64(n), "alerts")
			}
		})
	}
}

func latencyRun(b *testing.B, hold time.Duration, rate int, d time.Duration) (p50, p99 time.Duration, alerts int) {
	began := time.Now()
	var seq int
	defer func() { b.ReportMetric(float64(seq)/d.Seconds(), "offered_events/s") }()
	rs := startRedis(b)
	broker := startKafka(b, 6)
	cfg := benchRunConfig(broker)
	cfg.Kafka.MaxHold = hold
	if os.Getenv("ATOD_BENCH_MEMORY") == "" {
		cfg.Redis.Addrs, cfg.Redis.AllowPlainKeys = []string{rs.addr}, true
	}
	cfg.Ops.Listen = ""
	stop := startRun(b, cfg)
	readTopic(b, broker, testAlerts, 0)
	time.Sleep(time.Second) // let the group form

	seq, _ = offerLive(b, broker, rate, d)
	time.Sleep(time.Second + hold)
	if err := stop(); err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	for _, r := range readTopic(b, broker, testAlerts, 0) {
		var a detector.Alert
		if err := json.Unmarshal(r.value, &a); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, r.time.Sub(a.Time))
		if os.Getenv("ATOD_BENCH_LATENCIES") != "" {
			// When the slow alerts come: each alert's event time from
			// the start of the run (the traffic starts a second or two
			// in), and its latency.
			fmt.Fprintf(os.Stderr, "alert at %6.3f s: %v\n", a.Time.Sub(began).Seconds(), r.time.Sub(a.Time).Round(time.Millisecond))
		}
	}
	if len(lat) == 0 {
		b.Fatal("no alerts")
	}
	slices.Sort(lat)
	return lat[len(lat)/2], lat[len(lat)*99/100], len(lat)
}

// offerLive produces live traffic to the test topic at rate events a
// second for d: successful sign-ins of 50,000 accounts from their own
// addresses, and every 5 ms the next failed sign-in of a victim from one
// attacker's address (a new victim every 12), which raise alerts now and
// then. It returns how many of each it offered.
func offerLive(b *testing.B, broker string, rate int, d time.Duration) (seq, burst int) {
	b.Helper()
	// Async: a write that takes longer than a tick must not lower the
	// offered rate.
	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: testTopic, Balancer: &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond, BatchSize: 10_000, Async: true}
	defer w.Close()
	const tick = 5 * time.Millisecond
	rng := rand.New(rand.NewPCG(3, 4))
	t := time.NewTicker(tick)
	defer t.Stop()
	start := time.Now()
	for end := start.Add(d); time.Now().Before(end); <-t.C {
		now := time.Now()
		// As many as keep the offered rate at rate since start: a tick
		// that came late (the machine is busy) sends more, not fewer.
		due := int(float64(rate)*now.Sub(start).Seconds()) - seq
		msgs := make([]kafka.Message, 0, max(due, 0)+1)
		for range max(due, 0) {
			u := rng.IntN(50_000)
			v := fmt.Appendf(nil, `{"time":%q,"user":"user%05d@example.org","ip":"198.18.%d.%d","outcome":"success","id":"l%d"}`,
				now.Format(time.RFC3339Nano), u, u/250, 1+u%250, seq)
			msgs = append(msgs, kafka.Message{Key: []byte(fmt.Sprintf("user%05d@example.org", u)), Value: v})
			seq++
		}
		{ // every tick, the next failure of a victim; a new victim every 12 ticks
			victim := fmt.Sprintf("victim%05d@example.org", burst/12)
			v := fmt.Appendf(nil, `{"time":%q,"user":%q,"ip":"203.0.113.7","outcome":"failure","reason":"bad_password","id":"v%d"}`,
				now.Format(time.RFC3339Nano), victim, burst)
			msgs = append(msgs, kafka.Message{Key: []byte(victim), Value: v})
			burst++
		}
		if err := w.WriteMessages(context.Background(), msgs...); err != nil {
			b.Fatal(err)
		}
	}
	return seq, burst
}

var _ = zap.NewNop

func allCommittedGroup(client *kafka.Client, group string) bool {
	return allCommitted(nil, client, group)
}

// benchKafka is the benchmarks' broker: in this process, or in one of its
// own with ATOD_BENCH_BROKER=process.
func benchKafka(b *testing.B, partitions int32) string {
	switch v := os.Getenv("ATOD_BENCH_BROKER"); v {
	case "":
		return startKafka(b, partitions)
	case "process":
		return startKafkaProcess(b, partitions)
	default:
		b.Fatalf("ATOD_BENCH_BROKER: want process or nothing, got %q", v)
		return ""
	}
}

// benchRunConfig is testRunConfig with the product's group timing
// (kafka.session_timeout 10 s). The tests' 2 s measured something else:
// on these two shared cores a heartbeat was now and then late by that
// much, the member lost its generation in the middle of a run ("Illegal
// Generation" on commit), and the next one read a catch-up batch again:
// 92,000 events/s where the same binary ran 150,000 – 165,000, and half
// as many Redis keys written again (BENCHMARKS.md, session 17).
func benchRunConfig(broker string) fileConfig {
	cfg := testRunConfig(broker)
	def := defaultFileConfig().Kafka
	cfg.Kafka.SessionTimeout, cfg.Kafka.HeartbeatInterval, cfg.Kafka.RebalanceTimeout = def.SessionTimeout, def.HeartbeatInterval, def.RebalanceTimeout
	return cfg
}
