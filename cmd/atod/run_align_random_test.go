package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// A guard over align's bookkeeping (ReadyPrefix and Consume, PutBack of a whole
// batch's tail, the budget, ticks at the head): partitions in and out of
// backlogs, some waiting, with late events; in the end every event is
// done exactly once.
func TestAlignRandomEveryEventOnce(t *testing.T) {
	for seed := uint64(1); seed <= 16; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { alignRandomRun(t, seed) })
	}
}

func alignRandomRun(t *testing.T, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 7))
	cfg := detector.DefaultConfig()
	cfg.Lateness = 10 * time.Second
	clock := time.Now()
	var store detector.Store = detector.NewMemoryStore(0, 0)
	if seed%2 == 0 {
		// Saves ahead; some writes are refused (another instance), and
		// the batch and the one run meanwhile run again.
		sc := &scriptedRunStore{MemoryStore: detector.NewMemoryStore(0, 0)}
		for i := 0; i < 2000; i++ {
			var err error
			if rng.IntN(8) == 0 {
				err = detector.ErrConflict
			}
			sc.ahead = append(sc.ahead, err)
		}
		store = sc
	}
	d, _, _ := newTestLiveDetector(t, cfg, store)
	d.now = func() time.Time { return clock }
	d.catchUp = 64 + rng.IntN(200)
	d.batch = 8
	const parts = 3
	var as []ingestkafka.Assignment
	for p := int32(0); p < parts; p++ {
		as = append(as, ingestkafka.Assignment{Partition: p})
	}
	if err := d.Assign(ctx, as); err != nil {
		t.Fatal(err)
	}
	evTime := [parts]time.Time{}
	offset := [parts]int64{}
	for p := range evTime {
		evTime[p] = clock.Add(-time.Hour + time.Duration(rng.IntN(600))*time.Second)
	}
	done := map[ingest.Position]int{}
	total := 0
	note := func(pos []ingest.Position) {
		for _, p := range pos {
			done[p]++
		}
	}
	ip := netip.MustParseAddr("203.0.113.9")
	for step := 0; step < 400; step++ {
		clock = clock.Add(time.Duration(rng.IntN(30)) * time.Millisecond)
		if rng.IntN(4) == 0 {
			more, err := d.Tick(ctx, clock, nil)
			if err != nil {
				t.Fatal(err)
			}
			note(more)
			continue
		}
		p := int32(rng.IntN(parts))
		n := 1 + rng.IntN(40)
		evs := make([]ingest.Event, n)
		for i := range evs {
			evTime[p] = evTime[p].Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
			at := evTime[p]
			if rng.IntN(20) == 0 {
				at = at.Add(-time.Duration(rng.IntN(30)) * time.Second) // out of order, maybe late
			}
			u := fmt.Sprintf("u%d-%d@x", p, rng.IntN(5))
			evs[i] = ingest.Event{Time: at, User: u, IP: ip, Type: ingest.TypeLogin, Outcome: ingest.OutcomeFailure,
				ID: fmt.Sprintf("%d-%d", p, offset[p]), Pos: ingest.Position{Partition: p, Offset: offset[p]}}
			offset[p]++
		}
		total += n
		newest := clock
		if evTime[p].Before(clock.Add(-time.Minute)) && rng.IntN(3) > 0 {
			newest = evTime[p] // a backlog by timestamps
		}
		behind := int64(0)
		if rng.IntN(3) == 0 {
			behind = 1000
		}
		more, err := d.Handle(ctx, ingestkafka.Batch{Partition: p, Events: evs, Newest: newest, Behind: behind}, nil)
		if err != nil {
			t.Fatal(err)
		}
		note(more)
	}
	// Everything comes to the head: one fresh record each, then quiet.
	for p := int32(0); p < parts; p++ {
		ev := ingest.Event{Time: clock, User: "z@x", IP: ip, Type: ingest.TypeLogin, Outcome: ingest.OutcomeSuccess,
			ID: fmt.Sprintf("%d-%d", p, offset[p]), Pos: ingest.Position{Partition: p, Offset: offset[p]}}
		offset[p]++
		total++
		more, err := d.Handle(ctx, ingestkafka.Batch{Partition: p, Events: []ingest.Event{ev}, Newest: clock}, nil)
		if err != nil {
			t.Fatal(err)
		}
		note(more)
	}
	for i := 0; i < 40; i++ {
		clock = clock.Add(50 * time.Millisecond)
		more, err := d.Tick(ctx, clock, nil)
		if err != nil {
			t.Fatal(err)
		}
		note(more)
		time.Sleep(time.Millisecond)
	}
	more, err := d.Revoke(ctx, []int32{0, 1, 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	note(more)
	for pos, n := range done {
		if n != 1 {
			t.Errorf("%v done %d times", pos, n)
		}
	}
	if len(done) != total {
		missing := 0
		for p := int32(0); p < parts; p++ {
			for o := int64(0); o < offset[p]; o++ {
				if done[ingest.Position{Partition: p, Offset: o}] == 0 {
					missing++
				}
			}
		}
		t.Errorf("%d of %d events done (catch-up %d); %d missing", len(done), total, d.catchUp, missing)
	}
}
