package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// equivLateDenial is push bombing whose third denied prompt reaches the
// log two seconds of event time after the success it preceded (well
// within detector.lateness, 1m): replay orders it before the success and
// raises mfa_fatigue.
func equivLateDenial() [][]byte {
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	u, ip := "clerk11@example.org", "203.0.113.60"
	return [][]byte{
		equivEvent(at, u, ip, "failure", "mfa_denied", "d-1"),
		equivEvent(at.Add(1*time.Second), u, ip, "failure", "mfa_denied", "d-2"),
		equivEvent(at.Add(5*time.Second), u, ip, "success", "", "d-4"),
		equivEvent(at.Add(3*time.Second), u, ip, "failure", "mfa_denied", "d-3"), // 2s late
		equivEvent(at.Add(3*time.Minute), u, ip, "failure", "bad_password", "d-5"),
	}
}

// equivRecords parses lines as records of partition 0 from offset first.
func equivRecords(t *testing.T, lines [][]byte, first int64) []ingest.Event {
	t.Helper()
	evs := make([]ingest.Event, len(lines))
	for i, l := range lines {
		e, err := parseForTest(l)
		if err != nil {
			t.Fatal(err)
		}
		e.Pos = ingest.Position{Partition: 0, Offset: first + int64(i)}
		evs[i] = e
	}
	return evs
}

// equivPublished normalizes what a test publisher holds.
func equivPublished(t *testing.T, pubs ...*recordingPublisher) []string {
	t.Helper()
	var out []string
	for _, p := range pubs {
		p.mu.Lock()
		for _, a := range p.published {
			b, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, equivNormalize(t, b))
		}
		p.mu.Unlock()
	}
	sort.Strings(out)
	return out
}

// equivEndOfStream ends the input of a handler: a tick long after the
// last records, when the quiet partition's held events are due, then the
// partitions' revocation.
func equivEndOfStream(t *testing.T, d *liveDetector) {
	t.Helper()
	ctx := context.Background()
	if _, err := d.Tick(ctx, time.Now().Add(time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Revoke(ctx, []int32{0}, nil); err != nil {
		t.Fatal(err)
	}
}

// TestRunGracefulStopMidBacklog: atod run is stopped gracefully (SIGTERM;
// a rebalance revokes partitions the same way) while it works off a
// backlog, with more records waiting in Kafka. The records it did not
// finish are read again after the restart, so the alerts must be
// replay's. Revoke ran every event the Sequencer held, although events
// within detector.lateness of them were still in Kafka: the late denial
// then ran after the success it preceded, and the critical mfa_fatigue
// revocation was never raised (found by a review of live against replay).
func TestRunGracefulStopMidBacklog(t *testing.T) {
	ctx := context.Background()
	lines := equivLateDenial()
	want := equivReplayLines(t, "", nil, lines)
	if len(want) == 0 {
		t.Fatal("replay raises no alert")
	}
	cfg := detector.DefaultConfig()
	store := detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention) // stands for Redis: it outlives the process
	recorded := time.Date(2026, 3, 2, 8, 0, 10, 0, time.UTC)               // Kafka timestamps: a backlog

	// Uninterrupted, the handler gives replay's alerts.
	{
		d, pub, _ := newTestLiveDetector(t, cfg, detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention))
		if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Handle(ctx, ingestkafka.Batch{Partition: 0, Events: equivRecords(t, lines, 0), Newest: recorded}, nil); err != nil {
			t.Fatal(err)
		}
		equivEndOfStream(t, d)
		equivCompare(t, "atod run, uninterrupted", equivPublished(t, pub), want)
	}

	// First process: reads the first three records, with more waiting
	// in Kafka, then is stopped gracefully.
	d1, pub1, _ := newTestLiveDetector(t, cfg, store)
	if err := d1.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}}); err != nil {
		t.Fatal(err)
	}
	done, err := d1.Handle(ctx, ingestkafka.Batch{Partition: 0, Events: equivRecords(t, lines[:3], 0), Newest: recorded, Behind: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	more, err := d1.Revoke(ctx, []int32{0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done = append(done, more...)
	// The consumer commits past the highest offset done; the next
	// process reads again from there.
	next := int64(0)
	for _, p := range done {
		next = max(next, p.Offset+1)
	}
	t.Logf("the first process reported %d of 3 records done; the restart reads from offset %d", len(done), next)

	// Second process, same state store, reads the rest.
	d2, pub2, _ := newTestLiveDetector(t, cfg, store)
	if err := d2.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d2.Handle(ctx, ingestkafka.Batch{Partition: 0, Events: equivRecords(t, lines[next:], next), Newest: recorded}, nil); err != nil {
		t.Fatal(err)
	}
	equivEndOfStream(t, d2)
	equivCompare(t, "atod run, stopped and started mid-backlog", equivPublished(t, pub1, pub2), want)
}

// equivLateDenials is equivLateDenial for n accounts, 100 ms apart, in
// the order a log shipper delivers them: each third denial 30 s of event
// time after its own time (late by 30 s, within detector.lateness).
func equivLateDenials(n int) [][]byte {
	type rec struct {
		arrive time.Time
		line   []byte
	}
	base := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	var recs []rec
	for i := range n {
		at := base.Add(time.Duration(i) * 100 * time.Millisecond)
		u, ip := fmt.Sprintf("clerk%04d@example.org", i), fmt.Sprintf("198.18.%d.%d", i/250, 1+i%250)
		id := func(k int) string { return fmt.Sprintf("d%d-%d", i, k) }
		recs = append(recs,
			rec{at, equivEvent(at, u, ip, "failure", "mfa_denied", id(1))},
			rec{at.Add(time.Second), equivEvent(at.Add(time.Second), u, ip, "failure", "mfa_denied", id(2))},
			rec{at.Add(5 * time.Second), equivEvent(at.Add(5*time.Second), u, ip, "success", "", id(4))},
			rec{at.Add(33 * time.Second), equivEvent(at.Add(3*time.Second), u, ip, "failure", "mfa_denied", id(3))},
		)
	}
	sort.SliceStable(recs, func(a, b int) bool { return recs[a].arrive.Before(recs[b].arrive) })
	out := make([][]byte, len(recs))
	for i, r := range recs {
		out[i] = r.line
	}
	return out
}

// TestRunGracefulStopEndToEnd is the test above through atod
// run itself: a topic holding a backlog (records stamped with the log's
// time, as a shipper does), a graceful stop while it is being worked off,
// a start. Every account of the stream is push-bombed; replay revokes
// each; the restarted deployment misses those whose success was read
// before the stop and whose late denial after it.
func TestRunGracefulStopEndToEnd(t *testing.T) {
	lines := equivLateDenials(3000)
	want := equivReplayLines(t, "", nil, lines)
	if len(want) != 3000 {
		t.Fatalf("replay raises %d alerts, want one per account", len(want))
	}
	// Stop after a while, mid-backlog: try growing waits until one
	// stops the first run after it read some records but not all.
	var (
		broker string
		cfg    fileConfig
		n      int64
	)
	for _, wait := range []time.Duration{20, 40, 80, 160, 320} {
		rs := startRedis(t)
		broker = startKafka(t, 1)
		equivProduceAt(t, broker, lines, equivKey)
		cfg = testRunConfig(broker)
		cfg.Redis.Addrs, cfg.Redis.AllowPlainKeys = []string{rs.addr}, true
		cfg.Kafka.MaxBytes = 1024 // small fetches: the backlog takes a while to read
		client := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 10 * time.Second}
		stop := startRun(t, cfg)
		time.Sleep(wait * time.Millisecond)
		if err := stop(); err != nil {
			t.Fatalf("graceful stop: %v", err)
		}
		n, _ = committedCount(client, cfg.Kafka.Group)
		if n > 0 && n < int64(len(lines)) {
			break
		}
	}
	if n <= 0 || n >= int64(len(lines)) {
		t.Skipf("no stop landed mid-backlog (last: %d records committed)", n)
	}
	t.Logf("stopped gracefully after %d of %d records", n, len(lines))
	startRun(t, cfg)
	got := equivLiveAlerts(t, broker, cfg.Kafka.Group)
	equivCompareShort(t, "atod run, stopped and started", got, want)
}

// equivCompareShort is equivCompare that shows at most three
// differences each way.
func equivCompareShort(t *testing.T, what string, got, want []string) {
	t.Helper()
	onlyGot, onlyWant := equivDiff(got, want)
	if len(onlyGot) == 0 && len(onlyWant) == 0 {
		t.Logf("%s: %d alerts, identical to replay", what, len(got))
		return
	}
	t.Errorf("%s gives %d alerts, replay %d; %d only in %s, %d only in replay, e.g.:", what, len(got), len(want), len(onlyGot), what, len(onlyWant))
	for _, s := range onlyGot[:min(3, len(onlyGot))] {
		t.Errorf("  only in %s: %s", what, s)
	}
	for _, s := range onlyWant[:min(3, len(onlyWant))] {
		t.Errorf("  only in replay: %s", s)
	}
}

// TestRunKillMidBacklog: the same backlog, the first process
// killed (SIGKILL) instead of stopped. What it held was never run, so the
// next process reads it again in order: replay's alerts, each once.
func TestRunKillMidBacklog(t *testing.T) {
	lines := equivLateDenials(3000)
	want := equivReplayLines(t, "", nil, lines)
	rs := startRedis(t)
	broker := startKafka(t, 1)
	equivProduceAt(t, broker, lines, equivKey)
	path := writeRunConfig(t, broker, rs.addr)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.Replace(raw, []byte("kafka:\n"), []byte("kafka:\n  max_bytes: 1024\n  min_bytes: 1\n"), 1)
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	first := startAtod(t, path, "first")
	first.waitLog(t, "took over partitions")
	time.Sleep(150 * time.Millisecond)
	first.kill()
	client := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 10 * time.Second}
	n, _ := committedCount(client, "atod")
	t.Logf("killed with %d of %d records committed", n, len(lines))
	second := startAtod(t, path, "second")
	got := equivLiveAlerts(t, broker, "atod")
	if err := second.stop(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}
	equivCompareShort(t, "atod run, killed and started", got, want)
}

// TestRunBacklogClockOutlier: one record of a backlog carries
// a time two hours ahead of the rest (a device with a wrong clock; still
// in the past, so below live mode's ceiling). Replay waits for a second
// event to confirm such a jump (Sequencer.ConfirmProgress) and orders the
// rest within detector.lateness; live mode, working off the same records
// as a backlog, lets the one outlier move the partition's event time, so
// every later record is released at once and a denial 2 s late runs after
// the success it preceded.
func TestRunBacklogClockOutlier(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	u, ip := "clerk11@example.org", "203.0.113.60"
	lines := [][]byte{
		equivEvent(at, u, ip, "failure", "mfa_denied", "d-1"),
		equivEvent(at.Add(1*time.Second), u, ip, "failure", "mfa_denied", "d-2"),
		equivEvent(at.Add(2*time.Hour), "porter@example.org", "198.18.0.7", "success", "", "x-1"), // wrong clock
		equivEvent(at.Add(5*time.Second), u, ip, "success", "", "d-4"),
		equivEvent(at.Add(3*time.Second), u, ip, "failure", "mfa_denied", "d-3"), // 2s late
		equivEvent(at.Add(3*time.Minute), u, ip, "failure", "bad_password", "d-5"),
	}
	want := equivReplayLines(t, "", nil, lines)
	if len(want) == 0 {
		t.Fatal("replay raises no alert")
	}
	cfg := detector.DefaultConfig()
	d, pub, _ := newTestLiveDetector(t, cfg, detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention))
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}}); err != nil {
		t.Fatal(err)
	}
	recorded := at.Add(10 * time.Minute) // Kafka timestamps of a backlog
	if _, err := d.Handle(ctx, ingestkafka.Batch{Partition: 0, Events: equivRecords(t, lines, 0), Newest: recorded}, nil); err != nil {
		t.Fatal(err)
	}
	equivEndOfStream(t, d)
	equivCompare(t, "atod run over the backlog", equivPublished(t, pub), want)
}
