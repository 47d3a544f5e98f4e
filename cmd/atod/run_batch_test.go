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
		{20000, true, 20000},
	} {
		d := &liveDetector{batch: c.batch}
		if got := d.batchSize(c.backlog); got != c.want {
			t.Errorf("batch_events %d, backlog %v: %d, want %d", c.batch, c.backlog, got, c.want)
		}
	}
}
