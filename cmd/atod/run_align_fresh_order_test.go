package main

import (
	"context"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// Two partitions work off a backlog of the same two hours: partition 0's
// records lag by their Kafka timestamps, partition 1's are hours-old events
// with fresh timestamps (a shipper's flush, LogAppendTime) and far more
// than a batch waiting. Known (docs/kafka.md): fresh records are at the
// head, so partition 1 does not hold the merge back until its records lag
// by 5 s, and partition 0's events run ahead of partition 1's meanwhile.
// Holding the merge for fresh records would let a busy partition at the
// head hold every other's alerts (found by a review of session 16).
func TestAlignFreshStampedBacklogKeepsOrderAcrossPartitions(t *testing.T) {
	t.Skip("known (docs/kafka.md): a backlog whose records carry fresh Kafka timestamps is at the head until they lag 5 s, and holds no other partition's events back meanwhile")
	ctx := context.Background()
	clock := time.Now()
	cfg := detector.DefaultConfig()
	d, _, _ := newTestLiveDetector(t, cfg, detector.NewMemoryStore(0, 0))
	d.now = func() time.Time { return clock }
	d.catchUp = 1000
	d.batch = 8
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}, {Partition: 1}}); err != nil {
		t.Fatal(err)
	}
	base := clock.Add(-2 * time.Hour)
	var off [2]int64
	fetch := func(p int32, u string, n int, fresh bool) {
		t.Helper()
		evs := bruteForceBatch(u, n, base.Add(time.Duration(off[p])*time.Second), off[p])
		for i := range evs {
			evs[i].Pos.Partition = p
		}
		off[p] += int64(n)
		newest := evs[len(evs)-1].Time
		if fresh {
			newest = clock
		}
		if _, err := d.Handle(ctx, ingestkafka.Batch{Partition: p, Events: evs, Newest: newest, Behind: 100_000}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 20; i++ {
		clock = clock.Add(10 * time.Millisecond)
		fetch(1, "f@x", 100, true)   // events base+100i s ...
		fetch(0, "l@x", 1000, false) // events base+1000i s ...
		lp0 := d.parts[0]
		ran0 := off[0] - int64(lp0.pipe.Ready()+lp0.pipe.Held())
		if ran0 == 0 {
			continue
		}
		latest0 := base.Add(time.Duration(ran0-1) * time.Second) // partition 0's latest event run
		next1 := base.Add(time.Duration(off[1]) * time.Second)   // partition 1's next record, still in Kafka
		if latest0.After(next1.Add(cfg.Lateness)) {
			t.Fatalf("expected partition 0's events to wait for partition 1's backlog (more than a batch waiting); got partition 0's events run up to %v while partition 1's records from %v on are still unread (%v behind)",
				latest0.Sub(base), next1.Sub(base), latest0.Sub(next1))
		}
	}
}
