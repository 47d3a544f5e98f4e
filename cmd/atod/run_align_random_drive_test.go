package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/atod-project/atod/ingest"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// randomParts is how many partitions the randomized guards drive.
const randomParts = 3

// driveRandom is the randomized guards' stream: it assigns d partitions 0
// to randomParts-1 and gives it steps random fetches and ticks, clock
// (d's now) moving by up to 30 ms a step: fetches of 1 to 40 failed
// sign-ins of five accounts a partition, a second or so apart in event
// time from an hour ago, some out of order or late, some partitions
// behind by their timestamps, some with records waiting; with early,
// some from clocks an hour ahead, of accounts of their own. Then each
// partition brings one fresh record and goes quiet, and Revoke ends the
// generation. It fails t unless every event was reported done exactly
// once, and returns how many there were.
func driveRandom(t *testing.T, d *liveDetector, rng *rand.Rand, clock *time.Time, steps int, early bool) int {
	t.Helper()
	ctx := context.Background()
	var as []ingestkafka.Assignment
	for p := int32(0); p < randomParts; p++ {
		as = append(as, ingestkafka.Assignment{Partition: p})
	}
	if err := d.Assign(ctx, as); err != nil {
		t.Fatal(err)
	}
	var evTime [randomParts]time.Time
	var offset [randomParts]int64
	for p := range evTime {
		evTime[p] = clock.Add(-time.Hour + time.Duration(rng.IntN(600))*time.Second)
	}
	done := map[ingest.Position]int{}
	total := 0
	handle := func(b ingestkafka.Batch) {
		t.Helper()
		more, err := d.Handle(ctx, b, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range more {
			done[p]++
		}
	}
	tick := func() {
		t.Helper()
		more, err := d.Tick(ctx, *clock, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range more {
			done[p]++
		}
	}
	ip := netip.MustParseAddr("203.0.113.9")
	record := func(p int32, at time.Time, u string, outcome string) ingest.Event {
		ev := ingest.Event{Time: at, User: u, IP: ip, Type: ingest.TypeLogin, Outcome: outcome,
			ID: fmt.Sprintf("%d-%d", p, offset[p]), Pos: ingest.Position{Partition: p, Offset: offset[p]}}
		offset[p]++
		total++
		return ev
	}
	for range steps {
		*clock = clock.Add(time.Duration(rng.IntN(30)) * time.Millisecond)
		if rng.IntN(4) == 0 {
			tick()
			continue
		}
		p := int32(rng.IntN(randomParts))
		evs := make([]ingest.Event, 1+rng.IntN(40))
		for i := range evs {
			evTime[p] = evTime[p].Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
			at, u := evTime[p], fmt.Sprintf("u%d-%d@x", p, rng.IntN(5))
			switch rng.IntN(20) {
			case 0:
				at = at.Add(-time.Duration(rng.IntN(30)) * time.Second) // out of order, maybe late
			case 1:
				if early {
					at = clock.Add(time.Hour + time.Duration(rng.IntN(60))*time.Second) // a clock ahead
					u = fmt.Sprintf("e%d-%d@x", p, rng.IntN(3))
				}
			}
			evs[i] = record(p, at, u, ingest.OutcomeFailure)
		}
		newest := *clock
		if evTime[p].Before(clock.Add(-time.Minute)) && rng.IntN(3) > 0 {
			newest = evTime[p] // a backlog by timestamps
		}
		behind := int64(0)
		if rng.IntN(3) == 0 {
			behind = 1000
		}
		handle(ingestkafka.Batch{Partition: p, Events: evs, Newest: newest, Behind: behind})
	}
	// Everything comes to the head: one fresh record each, then quiet.
	for p := int32(0); p < randomParts; p++ {
		handle(ingestkafka.Batch{Partition: p, Events: []ingest.Event{record(p, *clock, "z@x", ingest.OutcomeSuccess)}, Newest: *clock})
	}
	for range 40 {
		*clock = clock.Add(50 * time.Millisecond)
		tick()
		time.Sleep(time.Millisecond) // a delivery lands in real time
	}
	more, err := d.Revoke(ctx, []int32{0, 1, 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range more {
		done[p]++
	}
	missing := 0
	for p := int32(0); p < randomParts; p++ {
		for o := range offset[p] {
			switch n := done[ingest.Position{Partition: p, Offset: o}]; n {
			case 0:
				missing++
			case 1:
			default:
				t.Errorf("partition %d offset %d done %d times", p, o, n)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d events never done (catch-up %d)", missing, total, d.catchUp)
	}
	return total
}
