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

// docs/kafka.md: while partitions catch up they hold up to one and a half
// times catch_up_events, and the batch being run is a copy of up to one
// more. A review found the first merge holding twice it ready, copying
// all of it twice, and keeping the copies' capacity for good: about six
// times catch_up_events at the peak, three retained.
func TestAlignMemoryWithinCatchUpBudget(t *testing.T) {
	ctx := context.Background()
	clock := time.Now()
	d, _, _ := newTestLiveDetector(t, detector.DefaultConfig(), detector.NewMemoryStore(0, 0))
	d.now = func() time.Time { return clock }
	d.catchUp = 4096
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}, {Partition: 1}, {Partition: 2}}); err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("198.51.100.7")
	// Three partitions work off backlogs; partition 0 brings its records
	// slowly (a far broker) and holds the others' merge back.
	at := [3]time.Time{clock.Add(-3 * time.Hour), clock.Add(-2 * time.Hour), clock.Add(-2 * time.Hour)}
	var off [3]int64
	peak := 0
	for i := 0; i < 600; i++ {
		clock = clock.Add(time.Millisecond)
		p := int32(i % 3)
		n := 100
		if p == 0 {
			n = 5
		}
		var evs []ingest.Event
		for j := 0; j < n; j++ {
			at[p] = at[p].Add(time.Second)
			evs = append(evs, ingest.Event{Time: at[p], User: fmt.Sprintf("u%d@x", p), IP: ip, Type: ingest.TypeLogin,
				Outcome: ingest.OutcomeSuccess, Pos: ingest.Position{Partition: p, Offset: off[p]}})
			off[p]++
		}
		if _, err := d.Handle(ctx, ingestkafka.Batch{Partition: p, Events: evs, Newest: at[p], Behind: 100000}, nil); err != nil {
			t.Fatal(err)
		}
		held := 0
		for _, lp := range d.parts {
			held += lp.pipe.Ready() + lp.pipe.Held()
		}
		peak = max(peak, held+cap(d.merged))
	}
	if limit := d.catchUp*5/2 + d.catchUp/10; peak > limit {
		t.Errorf("up to %d events held or copied at once (merged batch's room kept: %d) for catch_up_events %d; docs promise one and a half times catch_up_events held and one batch's copy (%d)",
			peak, cap(d.merged), d.catchUp, limit)
	}
}
