package main

import (
	"context"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// A partition working off a backlog whose records said to be waiting in
// Kafka do not come (a far broker, an outage) is released once
// catchUpBehind passed: its held events (detector.lateness of them) run
// and are done, rather than waiting for a record that may never come.
func TestAlignWaitingBacklogThatStopsIsReleased(t *testing.T) {
	ctx := context.Background()
	clock := time.Now()
	d, _, _ := newTestLiveDetector(t, detector.DefaultConfig(), detector.NewMemoryStore(0, 0))
	d.now = func() time.Time { return clock }
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}}); err != nil {
		t.Fatal(err)
	}
	start := clock.Add(-time.Hour)
	evs := bruteForceBatch("a@x", 120, start, 0) // two minutes of event time
	var done []ingest.Position
	more, err := d.Handle(ctx, ingestkafka.Batch{Partition: 0, Events: evs, Newest: clock.Add(-time.Hour), Behind: 1 << 20}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done = append(done, more...)
	for i := 0; i < 300; i++ { // 15 s of ticks, each 50 ms
		clock = clock.Add(50 * time.Millisecond)
		more, err := d.Tick(ctx, clock, nil)
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, more...)
		if i%20 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	time.Sleep(20 * time.Millisecond)
	more, err = d.Tick(ctx, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	done = append(done, more...)
	if len(done) != len(evs) {
		t.Fatalf("15 s after its last records, %d of the partition's %d events are done; held %d", len(done), len(evs), d.parts[0].pipe.Held())
	}
}
