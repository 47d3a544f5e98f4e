package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// slowProduceBroker starts a broker with the test topics and lines in the
// input topic, then has it answer every later produce (atod's alerts and
// dead letters) delay late, as a broker a region away does.
func slowProduceBroker(tb testing.TB, partitions int32, lines [][]byte, delay time.Duration) string {
	tb.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, testTopic, testAlerts, testDLQ),
		kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	broker := c.ListenAddrs()[0]
	produce(tb, broker, lines, userKey)
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		c.SleepControl(func() { time.Sleep(delay) })
		return nil, nil, false
	})
	return broker
}

// BenchmarkRunSlowProduce drains a pre-filled topic (100,000 events over
// 20,000 accounts, Redis state; its failed sign-ins from 250 shared
// addresses raise 250 alerts) with the broker's produce answers delayed,
// as a broker a region away delays them: what alerts cost live mode when
// the brokers are far (see run_deliver.go).
//
//	go test ./cmd/atod -run '^$' -bench RunSlowProduce -benchtime 1x
func BenchmarkRunSlowProduce(b *testing.B) {
	for _, delay := range []time.Duration{0, 100 * time.Millisecond} {
		b.Run(fmt.Sprintf("produce_delay=%s", delay), func(b *testing.B) {
			for range b.N {
				const n = 100_000
				rs := startRedis(b)
				broker := slowProduceBroker(b, 6, liveBenchEvents(n, 20_000, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), 2000), delay)
				cfg := testRunConfig(broker)
				cfg.Redis.Addrs, cfg.Redis.AllowPlainKeys = []string{rs.addr}, true
				cfg.Ops.Listen = ""
				start := time.Now()
				stop := startRun(b, cfg)
				client := &kafka.Client{Addr: kafka.TCP(broker)}
				for !allCommittedGroup(client, cfg.Kafka.Group) {
					time.Sleep(5 * time.Millisecond)
				}
				elapsed := time.Since(start)
				if err := stop(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(n/elapsed.Seconds(), "events/s")
				b.ReportMetric(float64(len(readTopic(b, broker, testAlerts, 0))), "alerts")
			}
		})
	}
}

// slowAlertsRun is a run with Redis state over lines that a broker with
// produce answers delay late holds: its config, the broker and replay's
// alert ids for the lines.
func slowAlertsRun(t *testing.T, partitions int32, lines [][]byte, delay time.Duration) (fileConfig, string, []string) {
	t.Helper()
	rs := startRedis(t)
	broker := slowProduceBroker(t, partitions, lines, delay)
	cfg := testRunConfig(broker)
	cfg.Redis.Addrs, cfg.Redis.AllowPlainKeys = []string{rs.addr}, true
	return cfg, broker, expectedAlerts(t, cfg, lines)
}

// checkReplayAlerts checks that the alerts topic holds replay's alerts,
// each once.
func checkReplayAlerts(t *testing.T, broker string, want []string) {
	t.Helper()
	got := alertsOf(t, readTopic(t, broker, testAlerts, len(want)))
	if ids, dups := alertIDs(got); len(dups) > 0 || !equalStrings(ids, want) {
		t.Errorf("%d alerts (duplicates %v), want the %d of replay", len(ids), dups, len(want))
	}
}

// With the brokers slow to take alerts, every alert still reaches the
// topic exactly once, the same as replay's, and every offset is committed:
// deliveries travel beside detection, but events are done only once
// theirs has landed.
func TestRunSlowAlertsBroker(t *testing.T) {
	cfg, broker, want := slowAlertsRun(t, 2, staggered(40, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)), 150*time.Millisecond)
	startRun(t, cfg)
	checkReplayAlerts(t, broker, want)
	client := &kafka.Client{Addr: kafka.TCP(broker)}
	waitFor(t, "every offset committed", func() bool { return allCommittedGroup(client, cfg.Kafka.Group) })
}

// A stop while alerts travel to a slow broker is still graceful: it waits
// for the delivery in flight (within ops.shutdown_timeout), commits, and
// the next run delivers the rest, each alert once.
func TestRunStopWhileDelivering(t *testing.T) {
	cfg, broker, want := slowAlertsRun(t, 2, staggered(200, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)), 200*time.Millisecond)
	stop := startRun(t, cfg)
	readTopic(t, broker, testAlerts, 1) // deliveries are under way
	if err := stop(); err != nil {
		t.Fatalf("stop while delivering: %v", err)
	}
	startRun(t, cfg)
	checkReplayAlerts(t, broker, want)
}

// A crash while deliveries travel to a slow broker loses and doubles no
// alert: what was in flight is in the outbox, and its events were not
// done, so the restarted instance delivers it or finds it on the topic.
func TestRunCrashRestartSlowAlertsBroker(t *testing.T) {
	lines := staggered(600, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	rs := startRedis(t)
	broker := slowProduceBroker(t, 3, lines, 100*time.Millisecond)
	crashRestart(t, broker, rs.addr, lines)
}

// Two instances while deliveries travel to a slow broker, one killed: the
// survivor takes over partitions whose last alerts may be in flight or in
// the outbox, and ends with replay's alerts, each once.
func TestRunTwoInstancesOneKilledSlowAlertsBroker(t *testing.T) {
	lines := staggered(600, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	rs := startRedis(t)
	broker := slowProduceBroker(t, 4, nil, 100*time.Millisecond)
	twoInstancesOneKilled(t, broker, rs.addr, lines)
}
