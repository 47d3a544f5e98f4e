package main

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/atod-project/atod/detector"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// A backlog is said once it has lasted 5 s, every 30 s while it lasts,
// and once no partition has worked off a backlog for 5 s; a short lag, or
// records that lag with none waiting, say nothing.
func TestBacklogProgressLines(t *testing.T) {
	ctx := context.Background()
	clock := time.Now()
	d, _, _ := newTestLiveDetector(t, detector.DefaultConfig(), detector.NewMemoryStore(0, 0))
	core, logs := observer.New(zap.InfoLevel)
	d.log = zap.New(core)
	d.now = func() time.Time { return clock }
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}, {Partition: 1}}); err != nil {
		t.Fatal(err)
	}
	var off int64
	handle := func(p int32, age time.Duration, behind int64) {
		t.Helper()
		evs := bruteForceBatch("a@x", 10, clock.Add(-age), off)
		for i := range evs {
			evs[i].Pos.Partition = p
		}
		off += 10
		if _, err := d.Handle(ctx, ingestkafka.Batch{Partition: p, Events: evs, Newest: clock.Add(-age), Behind: behind}, nil); err != nil {
			t.Fatal(err)
		}
	}
	said := func() []string {
		var out []string
		for _, e := range logs.TakeAll() {
			if e.Message != "took over partitions" {
				out = append(out, e.Message)
			}
		}
		return out
	}
	// Ten seconds behind: batches change, nothing is said.
	handle(0, 10*time.Second, 5000)
	if got := said(); len(got) != 0 {
		t.Fatalf("a 10 s lag said %v; want nothing", got)
	}
	// An hour behind with records waiting: one line once it lasted 5 s,
	// then progress every 30 s.
	for range 70 {
		handle(0, time.Hour, 50_000)
		handle(1, time.Hour, 0) // lags for good, none waiting: a shipper's timestamps
		clock = clock.Add(time.Second)
	}
	got := said()
	if len(got) != 3 || got[0] != "working off a backlog" || got[1] != "backlog progress" || got[2] != "backlog progress" {
		t.Fatalf("70 s of backlog said %v; want a first line and two progress lines", got)
	}
	// Partition 0 reaches the head: caught up 5 s later, whatever
	// partition 1's timestamps say.
	for range 6 {
		handle(0, time.Second, 0)
		clock = clock.Add(time.Second)
	}
	entries := logs.TakeAll()
	if len(entries) != 1 || entries[0].Message != "caught up" {
		t.Fatalf("reaching the head said %v; want caught up", entries)
	}
	if f := entries[0].ContextMap(); f["took"] != 70*time.Second || f["events_read"] != int64(70*20+5*10) {
		t.Errorf("caught up with %v; want took 70s and %d events", f, 70*20+5*10)
	}
}
