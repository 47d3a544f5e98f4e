package main

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// An early event (past the clock plus earlyAhead when it came) no longer
// runs in the Handle that brought it: it waits among the ready events for
// the next tick's align, ahead of the held events of its account that
// the tick releases behind it. By then a later Handle has moved the
// engine's ceiling (shared by all partitions) past it, so the engine no
// longer treats it as early: it marks the account applied up to its
// offset and moves Seen to its time, and the older sign-in of the same
// account that runs right after it in the same batch is skipped as
// "applied before" though it never ran (reapply.go's premise, kept by
// TestHeldEventBehindEarlyOneIsApplied for an event hours ahead, breaks
// for one just past the ceiling).
func TestAlignEarlyEventJustPastCeilingDoesNotSkipHeldOne(t *testing.T) {
	ctx := context.Background()
	cfg := detector.DefaultConfig()
	clock := time.Now()
	d := trackedLiveDetector(t, detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention), &clock, 1)
	ip := netip.MustParseAddr("198.51.100.7")
	records := []ingest.Event{
		{Time: clock.Add(-time.Second), User: "anna@example.org", IP: ip, Type: ingest.TypeLogin, Outcome: ingest.OutcomeSuccess,
			ID: "held", Pos: ingest.Position{Partition: 0, Offset: 0}},
		{Time: clock.Add(earlyAhead + 200*time.Millisecond), User: "anna@example.org", IP: ip, Type: ingest.TypeLogin, Outcome: ingest.OutcomeSuccess,
			ID: "early", Pos: ingest.Position{Partition: 0, Offset: 1}},
	}
	if _, err := d.Handle(ctx, ingestkafka.Batch{Partition: 0, Events: records, Newest: clock}, nil); err != nil {
		t.Fatal(err)
	}
	// The partition's next record, another account's, a second later.
	clock = clock.Add(time.Second)
	other := []ingest.Event{{Time: clock, User: "bert@example.org", IP: ip, Type: ingest.TypeLogin, Outcome: ingest.OutcomeSuccess,
		ID: "other", Pos: ingest.Position{Partition: 0, Offset: 2}}}
	if _, err := d.Handle(ctx, ingestkafka.Batch{Partition: 0, Events: other, Newest: clock}, nil); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(2 * d.maxHold)
	if _, err := d.Tick(ctx, clock, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Revoke(ctx, []int32{0}, nil); err != nil {
		t.Fatal(err)
	}
	st := d.eng.Stats()
	if st.Events != 3 || st.Reapplied != 0 {
		t.Errorf("the engine saw %d events and skipped %d as applied before; want 3 and 0: the sign-in held behind an early event "+
			"of its account was skipped as already applied", st.Events, st.Reapplied)
	}
}
