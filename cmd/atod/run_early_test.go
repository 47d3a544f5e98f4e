package main

import (
	"context"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// An event two hours ahead of this clock (a source with a wrong clock,
// within kafka.max_future) is run at once and counted early; it does not
// move the partition's event time, so the events after it are still put
// in order within the lateness instead of counting as late.
func TestEarlyEventKeepsThePartitionsOrder(t *testing.T) {
	ctx := context.Background()
	clock := time.Now()
	d, _, _ := newTestLiveDetector(t, detector.DefaultConfig(), detector.NewMemoryStore(0, 0))
	d.now = func() time.Time { return clock }
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}}); err != nil {
		t.Fatal(err)
	}
	start := clock.Add(-30 * time.Second)
	first := bruteForceBatch("a@x", 1, start, 0)
	early := bruteForceBatch("skewed@x", 1, clock.Add(2*time.Hour), 1)
	// Then two events 5 s apart, arriving in the wrong order.
	later := append(bruteForceBatch("b@x", 1, start.Add(10*time.Second), 2), bruteForceBatch("c@x", 1, start.Add(5*time.Second), 3)...)
	for _, evs := range [][]ingest.Event{first, early, later} {
		if _, err := d.Handle(ctx, ingestkafka.Batch{Partition: 0, Events: evs, Newest: clock}, nil); err != nil {
			t.Fatal(err)
		}
	}
	lp := d.parts[0]
	if lp.pipe.Early() != 1 || lp.pipe.Late() != 0 {
		t.Errorf("early %d, late %d; want the skewed event early and none late", lp.pipe.Early(), lp.pipe.Late())
	}
}
