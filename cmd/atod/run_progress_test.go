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

// progressRig is a detector with an observed log and a settable clock.
type progressRig struct {
	t     *testing.T
	d     *liveDetector
	logs  *observer.ObservedLogs
	clock time.Time
	off   int64
}

func newProgressRig(t *testing.T, parts ...int32) *progressRig {
	r := &progressRig{t: t, clock: time.Now()}
	r.d, _, _ = newTestLiveDetector(t, detector.DefaultConfig(), detector.NewMemoryStore(0, 0))
	core, logs := observer.New(zap.InfoLevel)
	r.d.log, r.logs = zap.New(core), logs
	r.d.now = func() time.Time { return r.clock }
	r.assign(parts...)
	return r
}

func (r *progressRig) assign(parts ...int32) {
	var as []ingestkafka.Assignment
	for _, p := range parts {
		as = append(as, ingestkafka.Assignment{Partition: p})
	}
	if err := r.d.Assign(context.Background(), as); err != nil {
		r.t.Fatal(err)
	}
}

func (r *progressRig) handle(p int32, age time.Duration, behind int64) {
	r.t.Helper()
	evs := bruteForceBatch("a@x", 10, r.clock.Add(-age), r.off)
	for i := range evs {
		evs[i].Pos.Partition = p
	}
	r.off += 10
	if _, err := r.d.Handle(context.Background(), ingestkafka.Batch{Partition: p, Events: evs, Newest: r.clock.Add(-age), Behind: behind}, nil); err != nil {
		r.t.Fatal(err)
	}
}

func (r *progressRig) count() map[string]int {
	n := map[string]int{}
	for _, e := range r.logs.All() {
		n[e.Message]++
	}
	return n
}

// A shipper stamping records with the log line's time (70 s old) flushes
// 2,500 records every 5 s; each fetch reaches the partition's end, and the
// fetcher hands them on in chunks of 1,024, so Behind is 1,476, then 452,
// then 0: the rest of one fetch counts as waiting. That is no backlog, and
// says nothing (found by a review: a start and a caught-up line each
// flush).
func TestBacklogProgressShipperBurstsSayNothing(t *testing.T) {
	r := newProgressRig(t, 0)
	for range 12 {
		r.clock = r.clock.Add(5 * time.Second)
		r.handle(0, 70*time.Second, 1476)
		r.handle(0, 70*time.Second, 452)
		r.handle(0, 70*time.Second, 0)
	}
	n := r.count()
	if n["working off a backlog"] > 1 || n["caught up"] > 1 {
		t.Errorf("a minute of a shipper's 5 s flushes said %d \"working off a backlog\" and %d \"caught up\"; want at most one each",
			n["working off a backlog"], n["caught up"])
	}
}

// Partition 0 was an hour behind with records waiting, then brings
// nothing more (its backlog ended in records that carry no
// authentication event, which never reach the detector); partition 1 is
// at the head. Partition 0 stops counting once it is no longer catching
// up: no progress lines with its last batch's figures, and whatever was
// announced is closed (found by a review: progress every 30 s for ever).
func TestBacklogProgressQuietPartitionEnds(t *testing.T) {
	r := newProgressRig(t, 0, 1)
	for range 10 {
		r.handle(0, time.Hour, 1000)
		r.clock = r.clock.Add(time.Second)
	}
	for range 180 {
		r.clock = r.clock.Add(time.Second)
		r.handle(1, 0, 0)
	}
	n := r.count()
	if n["working off a backlog"] != 1 || n["caught up"] != 1 || n["backlog progress"] != 0 {
		t.Errorf("partition 0 behind for 10 s, then quiet for 3 min: said %v; want one start, one caught up, no progress", n)
	}
}

// A rebalance mid-backlog moves the partition behind (0) to another
// instance; this one keeps partition 1, at the head. The backlog it
// announced is closed, as handed on (found by a review: it stayed open in
// the log for good).
func TestBacklogProgressRebalanceClosesIt(t *testing.T) {
	r := newProgressRig(t, 0, 1)
	for range 6 {
		r.handle(0, time.Hour, 100_000)
		r.clock = r.clock.Add(time.Second)
	}
	r.assign(1)
	for range 120 {
		r.clock = r.clock.Add(time.Second)
		r.handle(1, 0, 0)
	}
	n := r.count()
	if n["working off a backlog"] != 1 || n["backlog handed on: partitions revoked"] != 1 || n["caught up"] != 0 {
		t.Errorf("after a rebalance took the backlog away: said %v; want it announced, then handed on", n)
	}
}

// A backlog is said once it has lasted 5 s, every 30 s while it lasts,
// and once no partition has worked off a backlog for 5 s; a short lag, or
// records that lag with none waiting, say nothing.
func TestBacklogProgressLines(t *testing.T) {
	r := newProgressRig(t, 0, 1)
	handle := r.handle
	said := func() []string {
		var out []string
		for _, e := range r.logs.TakeAll() {
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
		r.clock = r.clock.Add(time.Second)
	}
	got := said()
	if len(got) != 3 || got[0] != "working off a backlog" || got[1] != "backlog progress" || got[2] != "backlog progress" {
		t.Fatalf("70 s of backlog said %v; want a first line and two progress lines", got)
	}
	// Partition 0 reaches the head: caught up 5 s later, whatever
	// partition 1's timestamps say.
	for range 6 {
		handle(0, time.Second, 0)
		r.clock = r.clock.Add(time.Second)
	}
	entries := r.logs.TakeAll()
	if len(entries) != 1 || entries[0].Message != "caught up" {
		t.Fatalf("reaching the head said %v; want caught up", entries)
	}
	if f := entries[0].ContextMap(); f["took"] != 70*time.Second || f["events_read"] != int64(70*20+5*10) {
		t.Errorf("caught up with %v; want took 70s and %d events", f, 70*20+5*10)
	}
}
