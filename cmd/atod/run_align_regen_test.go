package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// A guard of Revoke's "what is due runs, the rest is read again": a
// generation of three partitions (backlogs, waiting ones, late events)
// ends at a random point; the next reads each partition again from its
// first record not done, over the same state. Each event must be applied
// exactly once over both: none skipped by the accounts' applied marks
// without having run, none counted twice.
func TestAlignRevokeRereadAppliesEachOnce(t *testing.T) {
	for seed := uint64(1); seed <= 16; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { alignRegenRun(t, seed) })
	}
}

// Some events come up to 30 s out of order: later than the lateness.
const lateMax = 30

func alignRegenRun(t *testing.T, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 11))
	cfg := detector.DefaultConfig()
	cfg.Lateness = 10 * time.Second
	clock := time.Now()
	store := detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention) // a store of 0 retention forgets the applied marks
	const parts = 3
	var as []ingestkafka.Assignment
	for p := int32(0); p < parts; p++ {
		as = append(as, ingestkafka.Assignment{Partition: p})
	}
	newGen := func() *liveDetector {
		d, _, _ := newTestLiveDetector(t, cfg, store)
		d.now = func() time.Time { return clock }
		d.eng.TrackPositions()
		d.catchUp = 64 + rng.IntN(200)
		d.batch = 8
		if err := d.Assign(ctx, as); err != nil {
			t.Fatal(err)
		}
		return d
	}
	// The records, made up front: per partition, in offset order.
	var records [parts][]ingest.Event
	ip := netip.MustParseAddr("203.0.113.9")
	for p := int32(0); p < parts; p++ {
		at := clock.Add(-time.Hour + time.Duration(rng.IntN(600))*time.Second)
		for o := int64(0); o < 1500; o++ {
			at = at.Add(time.Duration(1+rng.IntN(3000)) * time.Millisecond)
			tm := at
			if rng.IntN(20) == 0 {
				tm = tm.Add(-time.Duration(rng.IntN(lateMax)) * time.Second)
			}
			out := ingest.OutcomeFailure
			if rng.IntN(3) == 0 {
				out = ingest.OutcomeSuccess
			}
			records[p] = append(records[p], ingest.Event{Time: tm, User: fmt.Sprintf("u%d-%d@x", p, rng.IntN(5)), IP: ip,
				Type: ingest.TypeLogin, Outcome: out, ID: fmt.Sprintf("%d-%d", p, o), Pos: ingest.Position{Partition: p, Offset: o}})
		}
	}
	done := map[ingest.Position]bool{}
	note := func(pos []ingest.Position) {
		for _, p := range pos {
			done[p] = true
		}
	}
	run := func(d *liveDetector, from [parts]int64, steps int, toEnd bool) [parts]int64 {
		next := from
		for step := 0; step < steps || toEnd; step++ {
			clock = clock.Add(time.Duration(rng.IntN(30)) * time.Millisecond)
			if rng.IntN(4) == 0 {
				more, err := d.Tick(ctx, clock, nil)
				if err != nil {
					t.Fatal(err)
				}
				note(more)
				continue
			}
			var left []int32
			for p := int32(0); p < parts; p++ {
				if next[p] < int64(len(records[p])) {
					left = append(left, p)
				}
			}
			if len(left) == 0 {
				break
			}
			p := left[rng.IntN(len(left))]
			n := min(1+rng.IntN(60), len(records[p])-int(next[p]))
			evs := slices.Clone(records[p][next[p] : next[p]+int64(n)])
			next[p] += int64(n)
			newest := evs[n-1].Time
			behind := int64(len(records[p])) - next[p]
			if rng.IntN(2) == 0 {
				behind = 0
			}
			more, err := d.Handle(ctx, ingestkafka.Batch{Partition: p, Events: evs, Newest: newest, Behind: behind}, nil)
			if err != nil {
				t.Fatal(err)
			}
			note(more)
		}
		return next
	}
	d1 := newGen()
	run(d1, [parts]int64{}, 50+rng.IntN(100), false)
	more, err := d1.Revoke(ctx, []int32{0, 1, 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	note(more)
	s1 := d1.eng.Stats()
	// The next generation reads from each partition's commit.
	var from [parts]int64
	for p := int32(0); p < parts; p++ {
		for done[ingest.Position{Partition: p, Offset: from[p]}] {
			from[p]++
		}
	}
	clear(done)
	d2 := newGen()
	run(d2, from, 0, true)
	// To the head: quiet, ticks release the rest.
	for p := int32(0); p < parts; p++ {
		d2.parts[p].lagging, d2.parts[p].waiting = false, false
	}
	for i := 0; i < 10; i++ {
		clock = clock.Add(time.Hour)
		d2.parts[0].hold.arrived(clock, clock)
		d2.parts[1].hold.arrived(clock, clock)
		d2.parts[2].hold.arrived(clock, clock)
		more, err := d2.Tick(ctx, clock, nil)
		if err != nil {
			t.Fatal(err)
		}
		note(more)
		time.Sleep(time.Millisecond)
	}
	more, err = d2.Revoke(ctx, []int32{0, 1, 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	note(more)
	s2 := d2.eng.Stats()
	total := 0
	for p := range records {
		total += len(records[p])
	}
	applied := s1.Events - s1.Reapplied - s1.Duplicates + s2.Events - s2.Reapplied - s2.Duplicates
	if applied != int64(total) {
		t.Errorf("%d events applied over both generations (first %d of %d run, %d skipped; second %d run, %d skipped as applied, %d as duplicates); want each of %d once",
			applied, s1.Events-s1.Reapplied, s1.Events, s1.Reapplied, s2.Events, s2.Reapplied, s2.Duplicates, total)
	}
}
