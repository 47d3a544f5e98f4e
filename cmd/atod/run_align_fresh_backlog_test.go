package main

import (
	"context"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// A backlog of hours-old events whose Kafka timestamps are fresh (a log
// shipper that buffered and flushed, a topic with LogAppendTime) is at
// the head by its timestamps: what is due runs, in small batches, as for
// a busy partition (docs/kafka.md). Once its records lag the clock by
// more than 5 s it works off a backlog, and only whole catch-up batches
// run while more records wait.
func TestAlignFreshStampedBacklogRunsWholeBatchesOnceItLags(t *testing.T) {
	ctx := context.Background()
	clock := time.Now()
	d, _, _ := newTestLiveDetector(t, detector.DefaultConfig(), detector.NewMemoryStore(0, 0))
	d.now = func() time.Time { return clock }
	d.catchUp, d.batch = 1000, 8
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 1}}); err != nil {
		t.Fatal(err)
	}
	base := clock.Add(-6 * time.Hour) // 120 fetches of 100 events a second apart stay in the past
	flushed := clock                  // when partition 1's records were written
	var off int64
	fetch := func() {
		t.Helper()
		evs := bruteForceBatch("f@x", 100, base.Add(time.Duration(off)*time.Second), off)
		for i := range evs {
			evs[i].Pos.Partition = 1
		}
		off += 100
		if _, err := d.Handle(ctx, ingestkafka.Batch{Partition: 1, Events: evs, Newest: flushed, Behind: 100_000}, nil); err != nil {
			t.Fatal(err)
		}
	}
	ranFresh := int64(0)
	partial := 0
	for i := range 120 {
		clock = clock.Add(100 * time.Millisecond)
		fetch()
		if _, err := d.Tick(ctx, clock, nil); err != nil {
			t.Fatal(err)
		}
		n := d.eng.Stats().Events
		if clock.Sub(flushed) <= catchUpBehind {
			ranFresh = n
			continue
		}
		if (n-ranFresh)%int64(d.catchUp) != 0 {
			partial++
			if partial == 1 {
				t.Errorf("fetch %d, records %v old: %d events run since they lag, not whole batches of %d", i, clock.Sub(flushed), n-ranFresh, d.catchUp)
			}
		}
	}
	if ranFresh == 0 {
		t.Error("nothing ran while partition 1's records were fresh; want what is due to run, as at the head")
	}
	if d.eng.Stats().Events <= ranFresh {
		t.Errorf("no whole batch ran once the records lagged (%d events run in all)", d.eng.Stats().Events)
	}
}
