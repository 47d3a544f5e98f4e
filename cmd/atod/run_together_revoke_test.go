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

// scriptedRunStore is a memory store that saves ahead; its writes ahead
// and saves fail as scripted (nil once the script runs out), and it
// records the accounts of each load.
type scriptedRunStore struct {
	*detector.MemoryStore
	ahead, save []error
	loads       [][]string
}

func (s *scriptedRunStore) SavesAhead() bool { return true }

func (s *scriptedRunStore) Load(ctx context.Context, users []string, addrs []netip.Addr) ([]*detector.UserState, []*detector.AddrState, error) {
	s.loads = append(s.loads, slices.Clone(users))
	return s.MemoryStore.Load(ctx, users, addrs)
}

func (s *scriptedRunStore) Save(ctx context.Context, users []*detector.UserState, addrs []*detector.AddrState) error {
	if len(s.save) > 0 {
		err := s.save[0]
		s.save = s.save[1:]
		if err != nil {
			return err
		}
	}
	return s.MemoryStore.Save(ctx, users, addrs)
}

func (s *scriptedRunStore) SaveAhead(ctx context.Context, users []*detector.UserState, addrs []*detector.AddrState) func() error {
	var err error
	if len(s.ahead) > 0 {
		err, s.ahead = s.ahead[0], s.ahead[1:]
	}
	if err == nil {
		err = s.MemoryStore.Save(ctx, users, addrs)
	}
	return func() error { return err }
}

// The batch that a tick runs for several partitions is refused and its
// rerun fails (the generation ended under it): its events stay with the
// Pipeline that runs the partitions together. Revoke of those partitions
// must finish them or fail; it may not return with them still held, to
// be run in a later generation by an instance that no longer owns the
// partition, whose alerts then go to no outbox.
func TestRevokeFinishesTheTogetherBatchEvents(t *testing.T) {
	ctx := context.Background()
	down := errors.New("connection lost")
	store := &scriptedRunStore{MemoryStore: detector.NewMemoryStore(0, 0),
		ahead: []error{detector.ErrConflict}, save: []error{down}}
	clock := time.Now()
	const maxHold = 50 * time.Millisecond
	d, _, _ := newTestLiveDetector(t, detector.DefaultConfig(), store)
	d.maxHold, d.now = maxHold, func() time.Time { return clock }
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}, {Partition: 1}}); err != nil {
		t.Fatal(err)
	}
	start := clock.Add(-30 * time.Second)
	a := bruteForceBatch("a@x", 12, start, 100) // partition 0: an alert
	b := bruteForceBatch("b@x", 2, start, 200)
	for i := range b {
		b[i].Pos.Partition = 1
	}
	var done []ingest.Position
	for p, evs := range map[int32][]ingest.Event{0: a, 1: b} {
		more, err := d.Handle(ctx, ingestkafka.Batch{Partition: p, Events: evs, Newest: clock}, nil)
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, more...)
	}
	// The tick's batch of both partitions is refused, and its rerun fails.
	more, err := d.Tick(ctx, clock.Add(maxHold), nil)
	if !errors.Is(err, down) {
		t.Fatalf("tick: %v; want the failed rerun's error", err)
	}
	done = append(done, more...)

	// The generation ends: both partitions are revoked.
	more, err = d.Revoke(ctx, []int32{0, 1}, nil)
	done = append(done, more...)
	if err == nil && len(done) != len(a)+len(b) {
		t.Errorf("Revoke returned no error with %d of its partitions' %d events done; want every event finished, or an error",
			len(done), len(a)+len(b))
	}

	// The next generation gives this instance partition 1 only.
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 1}}); err != nil {
		t.Fatal(err)
	}
	store.loads = nil
	b2 := bruteForceBatch("c@x", 1, start.Add(time.Minute), 300)
	b2[0].Pos.Partition = 1
	if _, err := d.Handle(ctx, ingestkafka.Batch{Partition: 1, Events: b2, Newest: clock}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Tick(ctx, clock.Add(3*maxHold), nil); err != nil {
		t.Fatal(err)
	}
	for _, users := range store.loads {
		if slices.Contains(users, "a@x") {
			t.Errorf("a later generation, not given partition 0, ran partition 0's events (loaded %v)", users)
			break
		}
	}
}

// A generation that ended without Revoke (its last Handle failed) leaves
// partitions with held events. The next generation must not run them: the
// partition may be another instance's now, and its records are read
// again from the last commit anyway.
func TestAssignForgetsPartitionsOfAnEndedGeneration(t *testing.T) {
	ctx := context.Background()
	store := &scriptedRunStore{MemoryStore: detector.NewMemoryStore(0, 0)}
	clock := time.Now()
	const maxHold = 50 * time.Millisecond
	d, _, _ := newTestLiveDetector(t, detector.DefaultConfig(), store)
	d.maxHold, d.now = maxHold, func() time.Time { return clock }
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}}); err != nil {
		t.Fatal(err)
	}
	a := bruteForceBatch("a@x", 3, clock.Add(-30*time.Second), 100)
	if _, err := d.Handle(ctx, ingestkafka.Batch{Partition: 0, Events: a, Newest: clock}, nil); err != nil {
		t.Fatal(err)
	}
	// No Revoke: the next generation gives this instance partition 1 only.
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 1}}); err != nil {
		t.Fatal(err)
	}
	store.loads = nil
	if _, err := d.Tick(ctx, clock.Add(3*maxHold), nil); err != nil {
		t.Fatal(err)
	}
	for _, users := range store.loads {
		if slices.Contains(users, "a@x") {
			t.Fatalf("partition 0's held events ran in a generation that does not own it (loaded %v)", users)
		}
	}
	if _, ok := d.parts[0]; ok {
		t.Error("partition 0 is still held after an Assign without it")
	}
}
