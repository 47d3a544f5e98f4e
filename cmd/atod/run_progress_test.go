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

// A backlog is said once when it begins, every 30 s while it lasts, and
// once when no partition works off a backlog any more; a short lag, or
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
	// An hour behind with records waiting: one line, then progress.
	handle(0, time.Hour, 100_000)
	if got := said(); len(got) != 1 || got[0] != "working off a backlog" {
		t.Fatalf("an hour's backlog said %v; want one line", got)
	}
	for range 70 {
		clock = clock.Add(time.Second)
		handle(0, time.Hour, 50_000)
		handle(1, time.Hour, 0) // lags for good, none waiting: a shipper's timestamps
	}
	if got := said(); len(got) != 2 || got[0] != "backlog progress" || got[1] != "backlog progress" {
		t.Fatalf("70 s of backlog said %v; want two progress lines", got)
	}
	// Partition 0 reaches the head: caught up, whatever partition 1's
	// timestamps say.
	handle(0, time.Second, 0)
	entries := logs.TakeAll()
	if len(entries) != 1 || entries[0].Message != "caught up" {
		t.Fatalf("reaching the head said %v; want caught up", entries)
	}
	if f := entries[0].ContextMap(); f["took"] != 70*time.Second || f["events"] != int64(10+70*20+10) {
		t.Errorf("caught up with %v; want took 70s and %d events", f, 10+70*20+10)
	}
}
