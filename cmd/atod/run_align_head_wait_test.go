package main

import (
	"context"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// Two busy partitions at the head of the stream (fresh Kafka timestamps)
// whose fetches now and then leave more than a batch waiting, as a GC
// pause or a slow write makes them. Records that are fresh are at the
// head whatever waits behind them: partition 0's events must run within
// max_hold, not wait for a catch-up batch (524,288 events) to fill. Until
// session 17 a partition whose fetch had left more than a batch waiting
// in the last 5 s did not count as at the head, and while partition 1
// kept waiting, partition 0's events waited with no end (found by a
// review; the test was skipped as known).
func TestHeadPartitionAfterBriefWaitRunsWithinMaxHold(t *testing.T) {
	for _, maxHold := range []time.Duration{50 * time.Millisecond, 0} {
		t.Run(maxHold.String(), func(t *testing.T) { reviewHeadAfterBriefWait(t, maxHold) })
	}
}

func reviewHeadAfterBriefWait(t *testing.T, maxHold time.Duration) {
	ctx := context.Background()
	clock := time.Now()
	d, _, _ := newTestLiveDetector(t, detector.DefaultConfig(), detector.NewMemoryStore(0, 0))
	d.maxHold, d.now = maxHold, func() time.Time { return clock }
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}, {Partition: 1}}); err != nil {
		t.Fatal(err)
	}
	var done []ingest.Position
	handle := func(p int32, evs []ingest.Event, behind int64) {
		t.Helper()
		more, err := d.Handle(ctx, ingestkafka.Batch{Partition: p, Events: evs, Newest: clock, Behind: behind}, nil)
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, more...)
	}
	var off0, off1 int64
	one := func(p int32, u string, off *int64) []ingest.Event {
		evs := bruteForceBatch(u, 1, clock, *off)
		evs[0].Pos.Partition = p
		*off++
		return evs
	}
	start := clock
	var watched []ingest.Position // partition 0's events brought by a fetch that left nothing waiting
	for i := 0; i < 200; i++ {    // 10 s, a round every 50 ms
		clock = clock.Add(50 * time.Millisecond)
		// Partition 1: busy, its fetches leave more than a batch waiting.
		handle(1, one(1, "b@x", &off1), 10_000)
		// Partition 0: every 2 s one fetch leaves more than a batch
		// waiting; the others leave none.
		if i%40 == 0 {
			handle(0, one(0, "a@x", &off0), 10_000)
		} else {
			evs := one(0, "a@x", &off0)
			if clock.Sub(start) < time.Second {
				watched = append(watched, evs[0].Pos)
			}
			handle(0, evs, 0)
		}
		more, err := d.Tick(ctx, clock, nil)
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, more...)
		if i%20 == 0 {
			time.Sleep(time.Millisecond) // a delivery lands in real time
		}
	}
	time.Sleep(20 * time.Millisecond)
	more, err := d.Tick(ctx, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	done = append(done, more...)
	isDone := map[ingest.Position]bool{}
	for _, p := range done {
		isDone[p] = true
	}
	n := 0
	for _, p := range watched {
		if isDone[p] {
			n++
		}
	}
	if n != len(watched) {
		t.Fatalf("after 10 s (max_hold %v), %d of the %d events partition 0 brought at the head in its first second are done; "+
			"ran %d events in all, partition 0 holds %d ready", d.maxHold, n, len(watched), d.eng.Stats().Events, d.parts[0].pipe.Ready())
	}
}
