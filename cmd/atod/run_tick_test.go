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

// loadCountingStore counts the engine's batches by their loads.
type loadCountingStore struct {
	*gatedRunStore
	loads int
}

func (s *loadCountingStore) Load(ctx context.Context, users []string, addrs []netip.Addr) ([]*detector.UserState, []*detector.AddrState, error) {
	s.loads++
	return s.gatedRunStore.Load(ctx, users, addrs)
}

// What several partitions release at one tick runs as one batch: one load
// and one save for all, where each partition's batch paid its own. Each
// partition's alerts are still staged in its own outbox while the state
// travels, and every event of every partition is done once it landed and
// the alerts are published.
func TestTickRunsThePartitionsTogether(t *testing.T) {
	ctx := context.Background()
	gate := make(chan struct{})
	store := &loadCountingStore{gatedRunStore: &gatedRunStore{MemoryStore: detector.NewMemoryStore(0, 0), gates: []chan struct{}{gate}}}
	clock := time.Now()
	const maxHold = 50 * time.Millisecond
	d, pub, outbox := newTestLiveDetector(t, detector.DefaultConfig(), store)
	d.maxHold, d.now = maxHold, func() time.Time { return clock }
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}, {Partition: 1}, {Partition: 2}}); err != nil {
		t.Fatal(err)
	}
	// Accounts a and b are guessed at from one address (an alert each),
	// c signs in once from it; one partition each.
	start := clock.Add(-30 * time.Second)
	batches := map[int32][]ingest.Event{
		0: bruteForceBatch("a@x", 12, start, 100),
		1: bruteForceBatch("b@x", 12, start.Add(500*time.Millisecond), 200),
		2: bruteForceBatch("c@x", 1, start, 300),
	}
	var done []ingest.Position
	for p, evs := range batches {
		for i := range evs {
			evs[i].Pos.Partition = p
		}
		more, err := d.Handle(ctx, ingestkafka.Batch{Partition: p, Events: evs, Newest: clock}, nil)
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, more...)
	}
	if store.loads != 0 || len(done) != 0 {
		t.Fatalf("before max_hold passed: %d loads, %d events done; want none", store.loads, len(done))
	}

	// The tick after max_hold releases all three partitions; the write
	// of their batch waits at the gate.
	ticked := make(chan error, 1)
	go func() {
		more, err := d.Tick(ctx, clock.Add(maxHold), nil)
		done = append(done, more...)
		ticked <- err
	}()
	waitFor(t, "the batch's alerts staged", func() bool {
		as, _ := outbox.Pending(ctx, "g/t/1")
		return len(as) > 0
	})
	for key, want := range map[string]string{"g/t/0": "a@x", "g/t/1": "b@x"} {
		as, err := outbox.Pending(ctx, key)
		if err != nil || len(as) != 1 || as[0].User != want {
			t.Errorf("outbox %s holds %+v (%v); want the alert about %s alone", key, as, err, want)
		}
	}
	if as, _ := outbox.Pending(ctx, "g/t/2"); len(as) != 0 {
		t.Errorf("outbox g/t/2 holds %+v; want nothing", as)
	}
	close(gate)
	if err := <-ticked; err != nil {
		t.Fatal(err)
	}
	if store.loads != 1 {
		t.Errorf("the tick ran %d batches; want the three partitions' events in one", store.loads)
	}
	waitFor(t, "both alerts published", func() bool { return pub.count() == 2 })
	more, err := d.Tick(ctx, clock.Add(2*maxHold), nil)
	if err != nil {
		t.Fatal(err)
	}
	done = append(done, more...)
	perPartition := map[int32]int{}
	for _, p := range done {
		perPartition[p.Partition]++
	}
	for p, evs := range batches {
		if perPartition[p] != len(evs) {
			t.Errorf("partition %d: %d events done; want %d", p, perPartition[p], len(evs))
		}
	}
}
