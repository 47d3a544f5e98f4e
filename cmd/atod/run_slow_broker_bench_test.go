package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// BenchmarkRunSlowProduce drains a pre-filled topic (100,000 events over
// 20,000 accounts, Redis state; its failed sign-ins from 250 shared
// addresses raise 250 alerts) with the broker's produce answers delayed,
// as a broker a region away delays them. Publishing a call's alerts is a
// round trip the detecting goroutine waits for, so the delay shows how
// much of live mode's rate alerts cost when the brokers are far.
//
//	go test ./cmd/atod -run '^$' -bench RunSlowProduce -benchtime 1x
func BenchmarkRunSlowProduce(b *testing.B) {
	for _, delay := range []time.Duration{0, 100 * time.Millisecond} {
		b.Run(fmt.Sprintf("produce_delay=%s", delay), func(b *testing.B) {
			for range b.N {
				const n = 100_000
				rs := startRedis(b)
				c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, testTopic, testAlerts, testDLQ),
					kfake.GroupMinSessionTimeout(100*time.Millisecond))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(c.Close)
				broker := c.ListenAddrs()[0]
				produce(b, broker, liveBenchEvents(n, 20_000, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), 2000), userKey)
				c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
					c.KeepControl()
					c.SleepControl(func() { time.Sleep(delay) })
					return nil, nil, false
				})
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
