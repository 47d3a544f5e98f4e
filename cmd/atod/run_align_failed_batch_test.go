package main

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// failingLoadStore is a memory store whose next Load fails when fail is set.
type failingLoadStore struct {
	*detector.MemoryStore
	fail error
}

func (s *failingLoadStore) Load(ctx context.Context, users []string, addrs []netip.Addr) ([]*detector.UserState, []*detector.AddrState, error) {
	if err := s.fail; err != nil {
		s.fail = nil
		return nil, nil, err
	}
	return s.MemoryStore.Load(ctx, users, addrs)
}

// A merged batch holds events of several partitions. When it fails in
// Handle of partition 1 (a rebalance cancels the context; Redis drops the
// connection), the consumer stops partition 1 only (ingest/kafka's
// contract: after an error no later record of *that* partition comes).
// Partition 0's events of the failed batch must not be dropped while its
// later records are still handed on and run: the account's applied mark
// would then cover the dropped ones, and the next owner skip them (an
// event, and its alert, lost for good). Partition 0's done offsets must
// have no gap.
func TestAlignFailedMergedBatchKeepsOtherPartitionsGapless(t *testing.T) {
	ctx := context.Background()
	store := &failingLoadStore{MemoryStore: detector.NewMemoryStore(0, 0)}
	clock := time.Now()
	d, _, _ := newTestLiveDetector(t, detector.DefaultConfig(), store)
	d.maxHold, d.now = 0, func() time.Time { return clock }
	d.eng.TrackPositions() // as runLive
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}, {Partition: 1}}); err != nil {
		t.Fatal(err)
	}
	start := clock.Add(-time.Second * 30)
	a1 := bruteForceBatch("a@x", 3, start, 0)
	b := bruteForceBatch("b@x", 3, start, 0)
	for i := range b {
		b[i].Pos.Partition = 1
	}
	a2 := bruteForceBatch("a@x", 3, start.Add(3*time.Second), 3)
	var done []ingest.Position
	handle := func(p int32, evs []ingest.Event) error {
		more, err := d.Handle(ctx, ingestkafka.Batch{Partition: p, Events: evs, Newest: clock}, nil)
		done = append(done, more...)
		return err
	}
	// Partition 1 has brought nothing yet: partition 0's events wait.
	if err := handle(0, a1); err != nil {
		t.Fatal(err)
	}
	// Partition 1's records come; the merged batch of both fails.
	down := errors.New("connection lost")
	store.fail = down
	if err := handle(1, b); !errors.Is(err, down) {
		t.Fatalf("Handle(1): %v; want the failed load", err)
	}
	// The consumer stopped partition 1 only: partition 0's next records
	// come, and the generation then ends.
	clock = clock.Add(10 * time.Millisecond)
	if err := handle(0, a2); err != nil {
		t.Fatal(err)
	}
	more, err := d.Revoke(ctx, []int32{0, 1}, nil)
	done = append(done, more...)
	if err != nil {
		t.Logf("revoke: %v", err)
	}
	var p0 []int64
	for _, pos := range done {
		if pos.Partition == 0 {
			p0 = append(p0, pos.Offset)
		}
	}
	slices.Sort(p0)
	for i, off := range p0 {
		if off != int64(i) {
			t.Errorf("partition 0 done offsets %v: a gap below %d; its events in the failed merged batch were dropped while later records ran", p0, off)
			break
		}
	}
	// The partition's next owner reads it again from the commit (offset
	// 0): every event not run before must run now.
	d2, _, _ := newTestLiveDetector(t, detector.DefaultConfig(), store)
	d2.maxHold, d2.now = 0, func() time.Time { return clock }
	d2.eng.TrackPositions()
	if err := d2.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}}); err != nil {
		t.Fatal(err)
	}
	again := append(append([]ingest.Event(nil), a1...), a2...)
	if _, err := d2.Handle(ctx, ingestkafka.Batch{Partition: 0, Events: again, Newest: clock}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d2.Revoke(ctx, []int32{0}, nil); err != nil {
		t.Fatal(err)
	}
	skipped := d2.eng.Stats().Reapplied
	if skipped > int64(len(p0)) {
		t.Errorf("the next owner skipped %d of partition 0's events as applied, but only %d ran (done %v): %d events lost",
			skipped, len(p0), p0, skipped-int64(len(p0)))
	}
}
