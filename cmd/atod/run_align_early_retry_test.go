package main

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// An early event whose run failed (Handle's error: a rebalance, Redis
// gone) is put back apart and runs at the next Handle, of any partition,
// under that Handle's ceiling. A second later the ceiling has passed an
// event just past the old one: the engine takes it as ordinary, marks its
// account applied up to its offset and moves Seen to its time, and the
// older sign-in of that account, still held by the Sequencer, is skipped
// as "applied before" when a tick releases it (or when the next owner
// reads it again).
func TestAlignEarlyEventRetriedUnderItsCeiling(t *testing.T) {
	ctx := context.Background()
	cfg := detector.DefaultConfig()
	clock := time.Now()
	store := &failingLoadStore{MemoryStore: detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention)}
	d := trackedLiveDetector(t, store, &clock, 2)
	ip := netip.MustParseAddr("198.51.100.7")
	records := []ingest.Event{
		{Time: clock.Add(-time.Second), User: "anna@example.org", IP: ip, Type: ingest.TypeLogin, Outcome: ingest.OutcomeSuccess,
			ID: "held", Pos: ingest.Position{Partition: 0, Offset: 0}},
		{Time: clock.Add(earlyAhead + 200*time.Millisecond), User: "anna@example.org", IP: ip, Type: ingest.TypeLogin, Outcome: ingest.OutcomeSuccess,
			ID: "early", Pos: ingest.Position{Partition: 0, Offset: 1}},
	}
	down := errors.New("connection lost")
	store.fail = down
	if _, err := d.Handle(ctx, ingestkafka.Batch{Partition: 0, Events: records, Newest: clock}, nil); !errors.Is(err, down) {
		t.Fatalf("Handle(0): %v; want the failed load", err)
	}
	// The consumer stops partition 0; partition 1's records come a second later.
	clock = clock.Add(time.Second)
	other := []ingest.Event{{Time: clock, User: "bert@example.org", IP: ip, Type: ingest.TypeLogin, Outcome: ingest.OutcomeSuccess,
		ID: "other", Pos: ingest.Position{Partition: 1, Offset: 0}}}
	if _, err := d.Handle(ctx, ingestkafka.Batch{Partition: 1, Events: other, Newest: clock}, nil); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(2 * d.maxHold)
	if _, err := d.Tick(ctx, clock, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Revoke(ctx, []int32{0, 1}, nil); err != nil {
		t.Fatal(err)
	}
	if st := d.eng.Stats(); st.Reapplied != 0 {
		t.Errorf("the engine skipped %d events as applied before (of %d): the sign-in held behind a retried early event of its account was never run",
			st.Reapplied, st.Events)
	}
}
