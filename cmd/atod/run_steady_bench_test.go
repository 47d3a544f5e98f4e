package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
)

// BenchmarkRunSteadyCPU measures what steady live traffic costs, where
// BenchmarkRunScaleOut measures a backlog drained: one atod process (state
// in Redis, pseudonymised keys) reads the traffic of offerLive at
// ATOD_STEADY_RATE events a second (default 20,000) for ATOD_STEADY_MS
// milliseconds (10,000), in ordinary batches as it comes, after a warm-up
// that offers each of its 50,000 accounts about three events (150,000 at
// 50,000 a second), as a tenant's steady traffic meets accounts seen
// before and cached (redis.local_cache_entries). It reports the
// CPU that the atod process (/proc) and redis-server (INFO) spent per
// event from the first event offered to the last committed, and as
// idle_cores the share of a core the process used before any event came
// (heartbeats, fetches waiting for records). docs/scale.md sizes a
// deployment from these figures. The broker runs in this process, or in
// one of its own with ATOD_BENCH_BROKER=process. ATOD_STEADY_CPUPROFILE
// names a file for the atod process's CPU profile; the warm-up is then
// left out, so that the profile is of steady traffic (the warm-up moved
// the figures by less than their spread). ATOD_STEADY_PARTITIONS sets the
// topic's partitions (6).
func BenchmarkRunSteadyCPU(b *testing.B) {
	rate := envInt(b, "ATOD_STEADY_RATE", 20_000)
	d := time.Duration(envInt(b, "ATOD_STEADY_MS", 10_000)) * time.Millisecond
	profile := os.Getenv("ATOD_STEADY_CPUPROFILE")
	parts := int32(6)
	if v := os.Getenv("ATOD_STEADY_PARTITIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			b.Fatalf("ATOD_STEADY_PARTITIONS=%q: want a number of partitions from 1 to 1000", v)
		}
		parts = int32(n)
	}
	for i := range b.N {
		rs := startRedis(b)
		broker := benchKafka(b, parts)
		group := fmt.Sprintf("steady%d", i)
		path := writeProcConfig(b, broker, group, rs.addr)
		env := []string{"ATOD_PSEUDONYM_KEY=steady-bench-pseudonym-key-0123456789", "ATOD_HELPER_LOG_LEVEL=warn"}
		if profile != "" {
			env = append(env, "ATOD_HELPER_CPUPROFILE="+profile)
		}
		p := startAtod(b, path, group, env...)
		ctx := context.Background()
		client := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 10 * time.Second}
		for deadline := time.Now().Add(30 * time.Second); !groupStable(ctx, client, group, 1); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatal("the group did not become stable within 30 s")
			}
		}
		const idleFor = 2 * time.Second
		idle0 := procCPU(b, p.cmd.Process.Pid)
		time.Sleep(idleFor)
		idle1 := procCPU(b, p.cmd.Process.Pid)
		var warmSignIns, warmFailures int
		if profile == "" {
			warmSignIns, warmFailures = offerLive(b, broker, 50_000, 3*time.Second)
			waitCommitted(b, client, group, int64(warmSignIns+warmFailures))
		}
		rc := redis.NewClient(&redis.Options{Addr: rs.addr})
		cpu0, r0, t0 := procCPU(b, p.cmd.Process.Pid), redisInfo(b, rc), time.Now()
		signIns, failures := offerLive(b, broker, rate, d)
		n := int64(signIns + failures)
		waitCommitted(b, client, group, int64(warmSignIns+warmFailures)+n)
		cpu1, r1, t1 := procCPU(b, p.cmd.Process.Pid), redisInfo(b, rc), time.Now()
		rc.Close()
		if err := p.stop(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(signIns)/d.Seconds(), "offered_events/s")
		b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(n), "atod_cpu_us/event")
		b.ReportMetric((r1.cpu-r0.cpu)*1e6/float64(n), "redis_cpu_us/event")
		b.ReportMetric(float64(cpu1-cpu0)/float64(t1.Sub(t0)), "atod_cores")
		b.ReportMetric(float64(idle1-idle0)/float64(idleFor), "idle_cores")
	}
}

// waitCommitted waits until group has committed n events of the test
// topic, a minute at most.
func waitCommitted(b *testing.B, client *kafka.Client, group string, n int64) {
	b.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(time.Minute); committedSum(ctx, client, group) < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d events committed a minute after the last was offered", committedSum(ctx, client, group), n)
		}
	}
}

// clockTick is the unit of /proc's CPU times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// procCPU reads the CPU time (user and system) process pid has used so
// far from /proc/PID/stat, in clock ticks of 10 ms.
func procCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command's name, which is in parentheses and
	// may hold spaces: state is the first, utime the 12th, stime the 13th.
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		b.Fatalf("/proc/%d/stat: %q", pid, s)
	}
	user, err1 := strconv.ParseInt(f[11], 10, 64)
	sys, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("/proc/%d/stat: %q", pid, s)
	}
	return time.Duration(user+sys) * clockTick
}
