package main

import (
	"context"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// A busy partition at the head: its records are fresh by their Kafka
// timestamps, and every fetch leaves more than a batch waiting (the
// consumer keeps a little behind a hot partition). Its events must be
// done within a few max_holds: counted as a backlog, they waited for
// detector.lateness (a minute) of event time to pass (found by a review
// of session 17's head rule).
func TestAlignBusyFreshPartitionRunsWithinMaxHold(t *testing.T) {
	for _, maxHold := range []time.Duration{50 * time.Millisecond, 0} {
		t.Run(maxHold.String(), func(t *testing.T) {
			ctx := context.Background()
			clock := time.Now()
			d, _, _ := newTestLiveDetector(t, detector.DefaultConfig(), detector.NewMemoryStore(0, 0))
			d.maxHold, d.now = maxHold, func() time.Time { return clock }
			if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}}); err != nil {
				t.Fatal(err)
			}
			var done []ingest.Position
			var off int64
			start := clock
			var watched []ingest.Position
			for i := 0; i < 200; i++ { // 10 s, a fetch every 50 ms
				clock = clock.Add(50 * time.Millisecond)
				evs := bruteForceBatch("a@x", 1, clock, off)
				off++
				if clock.Sub(start) < time.Second {
					watched = append(watched, evs[0].Pos)
				}
				more, err := d.Handle(ctx, ingestkafka.Batch{Partition: 0, Events: evs, Newest: clock, Behind: 10_000}, nil)
				if err != nil {
					t.Fatal(err)
				}
				done = append(done, more...)
				more, err = d.Tick(ctx, clock, nil)
				if err != nil {
					t.Fatal(err)
				}
				done = append(done, more...)
				if i%20 == 0 {
					time.Sleep(time.Millisecond)
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
				t.Fatalf("expected all %d events of the first second done 9 s later (fresh records, max_hold %v); got %d done, %d ran in all, %d held, %d ready",
					len(watched), maxHold, n, d.eng.Stats().Events, d.parts[0].pipe.Held(), d.parts[0].pipe.Ready())
			}
		})
	}
}
