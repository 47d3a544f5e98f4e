package main

import (
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// A partition gets kafka.batch_events (512 by default) while it keeps up,
// and catchUpBatch while its records lag the clock or more than a batch of
// them wait in Kafka; a configured size above catchUpBatch is kept.
func TestCatchUpBatchSize(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	fresh := ingestkafka.Batch{Newest: now.Add(-time.Second)}
	old := ingestkafka.Batch{Newest: now.Add(-time.Minute)}
	if lagsClock(fresh, now) || !lagsClock(old, now) || lagsClock(ingestkafka.Batch{}, now) {
		t.Fatal("lagsClock: want only the minute-old batch lagging")
	}
	for _, c := range []struct {
		batch   int
		backlog bool
		want    int
	}{
		{0, false, detector.DefaultBatchSize},
		{0, true, catchUpBatch},
		{100, false, 100},
		{100, true, catchUpBatch},
		{2 * catchUpBatch, true, 2 * catchUpBatch},
	} {
		d := &liveDetector{batch: c.batch}
		if got := d.batchSize(c.backlog); got != c.want {
			t.Errorf("batch_events %d, backlog %v: %d, want %d", c.batch, c.backlog, got, c.want)
		}
	}
}

// A partition working off a backlog keeps its partial batch from Tick
// while its batches keep coming, and while records were said to wait in
// Kafka behind its last batch, up to catchUpBehind; then, or once it keeps
// up, Tick releases what it holds.
func TestCatchingUp(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	const maxHold = 50 * time.Millisecond
	for _, c := range []struct {
		backlog bool
		behind  int64
		quiet   time.Duration
		want    bool
	}{
		{false, 0, 0, false},
		{false, 100_000, 0, false},
		{true, 0, 10 * time.Millisecond, true},
		{true, 0, 200 * time.Millisecond, false},
		{true, 5000, 200 * time.Millisecond, true},
		{true, 5000, catchUpBehind, false},
	} {
		lp := &livePartition{backlog: c.backlog, behind: c.behind, lastArrival: now.Add(-c.quiet)}
		if got := lp.catchingUp(now, maxHold); got != c.want {
			t.Errorf("backlog %v, %d behind, quiet %s: catching up %v, want %v", c.backlog, c.behind, c.quiet, got, c.want)
		}
	}
}
