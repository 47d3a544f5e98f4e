package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
	"github.com/segmentio/kafka-go"
)

// A partition's records lag the clock when their Kafka timestamps are
// more than catchUpBehind old; more than kafka.batch_events (512 by
// default) of them waiting in Kafka also make a backlog.
func TestCatchUpBatchSize(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	fresh := ingestkafka.Batch{Newest: now.Add(-time.Second)}
	old := ingestkafka.Batch{Newest: now.Add(-time.Minute)}
	if lagsClock(fresh, now) || !lagsClock(old, now) || lagsClock(ingestkafka.Batch{}, now) {
		t.Fatal("lagsClock: want only the minute-old batch lagging")
	}
	for _, c := range []struct{ batch, want int }{{0, detector.DefaultBatchSize}, {100, 100}} {
		if got := (&liveDetector{batch: c.batch}).batchSize(); got != c.want {
			t.Errorf("batch_events %d: %d, want %d", c.batch, got, c.want)
		}
	}
}

// A partition working off a backlog (its records lag) keeps its partial batch from Tick
// while its batches keep coming, and while more than a batch of records
// was said to wait in Kafka behind its last batch, up to catchUpBehind;
// then, or once it keeps up, Tick releases what it holds.
func TestCatchingUp(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	const maxHold = 50 * time.Millisecond
	for _, c := range []struct {
		backlog bool
		waiting bool
		quiet   time.Duration
		want    bool
	}{
		{false, false, 0, false},
		{false, true, 0, false},
		{true, false, 10 * time.Millisecond, true},
		{true, false, 200 * time.Millisecond, false},
		{true, true, 200 * time.Millisecond, true},
		{true, true, catchUpBehind, false},
	} {
		lp := &livePartition{lagging: c.backlog, waiting: c.waiting, lastArrival: now.Add(-c.quiet)}
		if got := lp.catchingUp(now, maxHold); got != c.want {
			t.Errorf("backlog %v, records waiting %v, quiet %s: catching up %v, want %v", c.backlog, c.waiting, c.quiet, got, c.want)
		}
	}
}

// A pre-filled topic is worked off in catch-up batches, not in ordinary
// ones: each batch costs Redis a load and a save of every account and
// address it touches. (A tick that released each partial batch, a drain
// after every call, and ordinary batches for what piled up once cut
// 40,000 events into more than 80 batches, most of 512.) Every event is
// processed once.
func TestRunWorksOffBacklogInBigBatches(t *testing.T) {
	rs := startRedis(t)
	broker := startKafka(t, 2)
	const n = 40_000
	produce(t, broker, liveBenchEvents(n, 2000, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), 2000), userKey)
	cfg := testRunConfig(broker)
	cfg.Redis.Addrs, cfg.Redis.AllowPlainKeys = []string{rs.addr}, true
	addr := make(chan string, 1)
	startRunHooked(t, cfg, &runHooks{opsAddr: func(a string) { addr <- a }})
	base := "http://" + <-addr
	client := &kafka.Client{Addr: kafka.TCP(broker)}
	waitFor(t, "every offset committed", func() bool { return allCommittedGroup(client, cfg.Kafka.Group) })

	_, metrics := httpGet(t, base+"/metrics")
	batches, events := metricValue(t, metrics, "atod_batch_events_count"), metricValue(t, metrics, "atod_batch_events_sum")
	processed := metricValue(t, metrics, "atod_events_processed_total")
	if events != n || processed != n || batches > 16 {
		t.Errorf("%v events (%v processed) in %v batches; want %d in at most 16 (2 partitions of %d events, batches up to %d)",
			events, processed, batches, n, n/2, defaultCatchUpEvents)
	}
}

// metricValue returns the value of an unlabelled series in a /metrics
// text page.
func metricValue(t *testing.T, page, name string) float64 {
	t.Helper()
	for line := range strings.Lines(page) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

// Records whose Kafka timestamps lag the clock (a shipper that stamps
// them with the log line's time, seconds behind) make a partition count
// as working off a backlog for good. Its alerts must still come while the
// traffic flows, not once a catch-up batch has filled or the traffic has
// stopped: a brute force among a steady trickle of sign-ins is alerted
// on while the trickle goes on.
func TestLaggingTimestampsStillAlertPromptly(t *testing.T) {
	broker := startKafka(t, 1)
	cfg := testRunConfig(broker)
	cfg.Detector.Lateness = 10 * time.Second
	startRun(t, cfg)

	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: testTopic, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	send := func(line []byte) {
		// Stamped a minute back, as a shipper stamps a log line's time.
		if err := w.WriteMessages(context.Background(), kafka.Message{Value: line, Time: time.Now().Add(-time.Minute)}); err != nil {
			t.Error(err)
		}
	}
	for _, line := range bruteForce(1, 12, start) {
		send(line)
	}
	// Then a sign-in every 10 ms, each a second of event time later, so
	// that event time carries the attack past the lateness, and no gap
	// reaches max_hold.
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			at := start.Add(2*time.Minute + time.Duration(i)*time.Second)
			send(fmt.Appendf(nil, `{"time":%q,"user":"other%d@example.org","ip":"198.51.100.%d","outcome":"success","id":"t%d"}`,
				at.Format(time.RFC3339), i%50, 1+i%200, i))
		}
	}()
	deadline := time.Now().Add(15 * time.Second)
	client := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 10 * time.Second}
	for {
		recs, err := readAll(client, testAlerts)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no alert after 15 s of steady traffic with lagging timestamps")
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	<-stopped
}
