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

// The accounts' applied marks (detector/reapply.go), which Revoke
// relies on to skip what already ran when held records are read again,
// assume every event applied to an account is at or before its Seen time
// and every held event at or after it. An early event (later than the
// clock plus earlyAhead: a source whose clock is ahead) is run at once,
// out of order, and moves Seen and the mark past the events of its
// account that the Sequencer still holds: when those are released (a
// tick, or read again after a stop or rebalance), they are skipped as
// "applied before" though they never ran. A sign-in is lost, with no
// restart at all.
func TestHeldEventBehindEarlyOneIsApplied(t *testing.T) {
	ctx := context.Background()
	cfg := detector.DefaultConfig()
	now := time.Now()
	ip := netip.MustParseAddr("198.51.100.7")
	records := []ingest.Event{
		{Time: now.Add(-time.Second), User: "anna@example.org", IP: ip, Type: ingest.TypeLogin, Outcome: ingest.OutcomeSuccess,
			ID: "held", Pos: ingest.Position{Partition: 0, Offset: 0}},
		{Time: now.Add(2 * time.Hour), User: "anna@example.org", IP: ip, Type: ingest.TypeLogin, Outcome: ingest.OutcomeSuccess,
			ID: "early", Pos: ingest.Position{Partition: 0, Offset: 1}},
	}
	d, _, _ := newTestLiveDetector(t, cfg, detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention))
	d.eng.TrackPositions() // as runLive
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Handle(ctx, ingestkafka.Batch{Partition: 0, Events: records, Newest: now}, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * d.maxHold)
	if _, err := d.Tick(ctx, time.Now(), nil); err != nil { // max_hold releases the held sign-in
		t.Fatal(err)
	}
	if _, err := d.Revoke(ctx, []int32{0}, nil); err != nil {
		t.Fatal(err)
	}
	st := d.eng.Stats()
	if st.Events != 2 || st.Reapplied != 0 {
		t.Errorf("the engine saw %d events and skipped %d as applied before; want 2 and 0: the sign-in held behind an early event "+
			"of its account was never run, yet skipped as already applied", st.Events, st.Reapplied)
	}
}
