package main

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// A partition whose records' Kafka timestamps lag the clock for good (a
// shipper that stamps records with the log line's time, here 10 s
// behind) counts as working off a backlog while its records keep coming.
// Docs: "At the head, a partition holds no other back", and such a
// partition "runs what event time releases after each fetch, so its
// alerts do not wait". A busy one must not hold another partition's
// fresh events at the head for its lag plus detector.lateness (70 s)
// instead of max_hold (50 ms): before the merge they ran at the tick.
func TestAlignLaggingShipperDoesNotHoldTheHead(t *testing.T) {
	ctx := context.Background()
	clock := time.Now()
	const maxHold = 50 * time.Millisecond
	d, _, _ := newTestLiveDetector(t, detector.DefaultConfig(), detector.NewMemoryStore(0, 0))
	d.maxHold, d.now = maxHold, func() time.Time { return clock }
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}, {Partition: 1}}); err != nil {
		t.Fatal(err)
	}
	var done []ingest.Position
	a := bruteForceBatch("a@x", 12, clock.Add(-12*time.Second), 0) // partition 0, at the head
	more, err := d.Handle(ctx, ingestkafka.Batch{Partition: 0, Events: a, Newest: clock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done = append(done, more...)
	// Partition 1: a busy shipper 10 s behind, a fetch every 10 ms.
	for i := int64(0); i < 100; i++ {
		clock = clock.Add(10 * time.Millisecond)
		ev := ingest.Event{Time: clock.Add(-10 * time.Second), User: "s@x", IP: netip.MustParseAddr("198.51.100.7"),
			Type: ingest.TypeLogin, Outcome: ingest.OutcomeSuccess, Pos: ingest.Position{Partition: 1, Offset: i}}
		more, err := d.Handle(ctx, ingestkafka.Batch{Partition: 1, Events: []ingest.Event{ev}, Newest: clock.Add(-10 * time.Second)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, more...)
		more, err = d.Tick(ctx, clock, nil)
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, more...)
		time.Sleep(time.Millisecond) // a delivery of alerts lands in real time
	}
	n := 0
	for _, p := range done {
		if p.Partition == 0 {
			n++
		}
	}
	if n != len(a) {
		t.Fatalf("1 s after they came (max_hold %v), %d of partition 0's %d events at the head are done: held back by partition 1's lagging timestamps", maxHold, n, len(a))
	}
}
