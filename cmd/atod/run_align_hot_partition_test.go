package main

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// At the head of the stream, a hot partition whose consumer stays a bit
// more than a batch (batch_events, 512) of records behind, all of them
// fresh (timestamps a moment old), counts as "waiting". It must not hold
// the other partitions' fresh events for a minute (its Frontier is its
// newest less detector.lateness) and until a whole catch-up batch of
// everyone's events is due: before the merge they ran at the next tick,
// max_hold after they came. Only a partition whose records lag the clock
// is a backlog whose order the others should wait for.
func TestAlignHotPartitionAtTheHeadDoesNotHoldOthers(t *testing.T) {
	ctx := context.Background()
	clock := time.Now()
	const maxHold = 50 * time.Millisecond
	d, _, _ := newTestLiveDetector(t, detector.DefaultConfig(), detector.NewMemoryStore(0, 0))
	d.maxHold, d.now = maxHold, func() time.Time { return clock }
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}, {Partition: 1}}); err != nil {
		t.Fatal(err)
	}
	var done []ingest.Position
	a := bruteForceBatch("a@x", 12, clock.Add(-12*time.Second), 0) // partition 0, quiet
	more, err := d.Handle(ctx, ingestkafka.Batch{Partition: 0, Events: a, Newest: clock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done = append(done, more...)
	ip := netip.MustParseAddr("198.51.100.7")
	var off int64
	for i := 0; i < 100; i++ { // 2 s of a hot partition 1: 200 fresh records a fetch, 600 behind
		clock = clock.Add(20 * time.Millisecond)
		var evs []ingest.Event
		for j := 0; j < 200; j++ {
			evs = append(evs, ingest.Event{Time: clock.Add(-time.Duration(200-j) * 100 * time.Microsecond), User: fmt.Sprintf("s%d@x", j%50), IP: ip,
				Type: ingest.TypeLogin, Outcome: ingest.OutcomeSuccess, Pos: ingest.Position{Partition: 1, Offset: off}})
			off++
		}
		more, err := d.Handle(ctx, ingestkafka.Batch{Partition: 1, Events: evs, Newest: clock, Behind: 600}, nil)
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, more...)
		more, err = d.Tick(ctx, clock, nil)
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, more...)
		time.Sleep(time.Millisecond)
	}
	n := 0
	for _, p := range done {
		if p.Partition == 0 {
			n++
		}
	}
	if n != len(a) {
		t.Fatalf("2 s after they came (max_hold %v), %d of partition 0's %d events at the head are done: held back by a hot partition 600 fresh records behind",
			maxHold, n, len(a))
	}
}
