package main

import (
	"context"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// An event whose time equals that of the last event max_hold released (a
// second source with one-second timestamps: two sign-ins in the same
// second, fetched a few dozen milliseconds apart) is due max_hold after
// it arrived like any other, on a partition that then goes quiet. It must
// not wait for a newer event, which may never come, nor for Revoke.
func TestHoldReleasesAnEventOfTheTimeLastReleased(t *testing.T) {
	ctx := context.Background()
	clock := time.Now()
	const maxHold = 50 * time.Millisecond
	d, _, _ := newTestLiveDetector(t, detector.DefaultConfig(), detector.NewMemoryStore(0, 0))
	d.maxHold, d.now = maxHold, func() time.Time { return clock }
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}}); err != nil {
		t.Fatal(err)
	}
	at := clock.Add(-2 * time.Second).Truncate(time.Second)
	first := bruteForceBatch("a@x", 1, at, 0)
	second := bruteForceBatch("a@x", 1, at, 1) // the same second
	second[0].ID = "a@x-second"

	done, err := d.Handle(ctx, ingestkafka.Batch{Partition: 0, Events: first, Newest: clock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := len(done)
	clock = clock.Add(maxHold)
	more, err := d.Tick(ctx, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	n += len(more)
	if n != 1 {
		t.Fatalf("%d events done max_hold after the first arrived; want 1", n)
	}

	clock = clock.Add(10 * time.Millisecond)
	more, err = d.Handle(ctx, ingestkafka.Batch{Partition: 0, Events: second, Newest: clock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n += len(more)
	// The partition is quiet from now on: ticks every max_hold/4 for a
	// good while.
	for range 100 {
		clock = clock.Add(maxHold / 4)
		more, err := d.Tick(ctx, clock, nil)
		if err != nil {
			t.Fatal(err)
		}
		n += len(more)
	}
	if n != 2 {
		t.Errorf("%d events done %s after the second arrived (max_hold %s); want 2: the second is held until a newer event or Revoke",
			n, 100*maxHold/4, maxHold)
	}
}

// The clock's own rules: an arrival of events no newer than the newest
// gets a mark only when none is pending, an arrival of none gets none,
// and a due mark at the watermark last released releases it again.
func TestHoldClockMarksSameTimeArrivals(t *testing.T) {
	const maxHold = 50 * time.Millisecond
	wall := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	at := wall.Add(-time.Minute)
	var h holdClock
	h.arrived(wall, at)
	if wm, ok := h.due(wall.Add(maxHold), maxHold); !ok || !wm.Equal(at) {
		t.Fatalf("first release %v %v, want %v", wm, ok, at)
	}
	h.arrived(wall.Add(60*time.Millisecond), time.Time{}) // a batch of no events
	if _, ok := h.due(wall.Add(200*time.Millisecond), maxHold); ok {
		t.Fatal("a batch without events released something")
	}
	h.arrived(wall.Add(210*time.Millisecond), at) // the same time again
	h.arrived(wall.Add(220*time.Millisecond), at) // and again: one mark is pending
	if len(h.marks) != 1 {
		t.Fatalf("%d marks pending, want 1", len(h.marks))
	}
	if _, ok := h.due(wall.Add(250*time.Millisecond), maxHold); ok {
		t.Fatal("released before max_hold passed")
	}
	if wm, ok := h.due(wall.Add(260*time.Millisecond), maxHold); !ok || !wm.Equal(at) {
		t.Fatalf("release of the same time %v %v, want %v again", wm, ok, at)
	}
	h.arrived(wall.Add(300*time.Millisecond), at.Add(-time.Second)) // older: late, passed through by the Sequencer
	if wm, ok := h.due(wall.Add(400*time.Millisecond), maxHold); !ok || !wm.Equal(at) {
		t.Fatalf("after an older arrival %v %v; the watermark must not go back", wm, ok)
	}
}
