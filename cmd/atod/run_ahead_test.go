package main

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// gatedRunStore is a memory store that saves ahead; its writes land in
// the order sent, each once the test closes the next of gates (at once
// when there are none left).
type gatedRunStore struct {
	*detector.MemoryStore
	gates []chan struct{}
}

func (s *gatedRunStore) SavesAhead() bool { return true }

func (s *gatedRunStore) SaveAhead(ctx context.Context, users []*detector.UserState, addrs []*detector.AddrState) func() error {
	err := s.MemoryStore.Save(ctx, users, addrs)
	gate := make(chan struct{})
	if len(s.gates) > 0 {
		gate, s.gates = s.gates[0], s.gates[1:]
	} else {
		close(gate)
	}
	return func() error {
		<-gate
		return err
	}
}

// recordingPublisher keeps what is published.
type recordingPublisher struct {
	mu        sync.Mutex
	published []detector.Alert
}

func (p *recordingPublisher) Publish(_ context.Context, as []detector.Alert) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.published = append(p.published, as...)
	return nil
}

func (p *recordingPublisher) Recent(context.Context, time.Time) ([]detector.Alert, error) {
	return nil, nil
}

func (p *recordingPublisher) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.published)
}

// newTestLiveDetector is atod run's Handler over store, with a memory
// outbox, a publisher that keeps what it is given, max_hold 50 ms and
// partitions keyed "g/t/N"; Assign has not been called.
func newTestLiveDetector(t *testing.T, cfg detector.Config, store detector.Store) (*liveDetector, *recordingPublisher, *alerts.MemoryOutbox) {
	t.Helper()
	eng, err := detector.NewEngine(cfg, store, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	enr, err := enrich.New(enrich.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub, outbox := &recordingPublisher{}, alerts.NewMemoryOutbox()
	d := &liveDetector{eng: eng, enr: enr, pub: pub, outbox: outbox, dedup: alerts.NewDelivered(cfg.IncidentGap, dedupRemembered),
		keyBase: "g/t", maxHold: 50 * time.Millisecond, log: zap.NewNop(),
		metrics: newRunMetrics(prometheus.NewRegistry(), nil), now: time.Now, parts: map[int32]*livePartition{}}
	return d, pub, outbox
}

// trackedLiveDetector is newTestLiveDetector as runLive sets it up
// (applied marks on), its clock *clock, partitions 0 .. n-1 assigned.
func trackedLiveDetector(t *testing.T, store detector.Store, clock *time.Time, n int32) *liveDetector {
	t.Helper()
	d, _, _ := newTestLiveDetector(t, detector.DefaultConfig(), store)
	d.eng.TrackPositions()
	d.now = func() time.Time { return *clock }
	var as []ingestkafka.Assignment
	for p := range n {
		as = append(as, ingestkafka.Assignment{Partition: p})
	}
	if err := d.Assign(context.Background(), as); err != nil {
		t.Fatal(err)
	}
	return d
}

// bruteForceBatch is n failed sign-ins of account u from one address, a
// second apart from start, at offsets from first on.
func bruteForceBatch(u string, n int, start time.Time, first int64) []ingest.Event {
	evs := make([]ingest.Event, n)
	for i := range evs {
		evs[i] = ingest.Event{Time: start.Add(time.Duration(i) * time.Second), User: u, IP: netip.MustParseAddr("203.0.113.9"),
			Type: ingest.TypeLogin, Outcome: ingest.OutcomeFailure, ID: fmt.Sprintf("%s-%d", u, first+int64(i)),
			Pos: ingest.Position{Partition: 0, Offset: first + int64(i)}}
	}
	return evs
}

// While a partition works off a backlog, Handle does not wait for the
// write of the batch it sent ahead: the next call runs the next batch
// while it travels. The batch's events are done only once it has landed,
// and its alerts, staged in the outbox, stay there while it travels, even
// when the delivery of an earlier batch's alerts lands and would clear
// the outbox.
func TestBacklogDoesNotWaitForTheWriteAhead(t *testing.T) {
	ctx := context.Background()
	gateA, gateB := make(chan struct{}), make(chan struct{})
	store := &gatedRunStore{MemoryStore: detector.NewMemoryStore(0, 0), gates: []chan struct{}{gateA, gateB}}
	cfg := detector.DefaultConfig()
	cfg.Lateness = 0
	d, pub, outbox := newTestLiveDetector(t, cfg, store)
	d.catchUp = detector.DefaultBatchSize
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}}); err != nil {
		t.Fatal(err)
	}
	const n = detector.DefaultBatchSize // a catch-up batch here
	start := time.Now().Add(-time.Hour)
	handle := func(evs []ingest.Event) []ingest.Position {
		t.Helper()
		type result struct {
			done []ingest.Position
			err  error
		}
		res := make(chan result, 1)
		go func() {
			// Records an hour old with more waiting: a backlog (fresh
			// ones would be at the head, run without waiting for batches).
			done, err := d.Handle(ctx, ingestkafka.Batch{Partition: 0, Events: evs, Newest: start, Behind: 10 * n}, nil)
			res <- result{append([]ingest.Position(nil), done...), err}
		}()
		select {
		case r := <-res:
			if r.err != nil {
				t.Fatal(r.err)
			}
			return r.done
		case <-time.After(10 * time.Second):
			t.Fatal("Handle of a partition with a backlog waited for the write sent ahead")
			return nil
		}
	}

	// Batch A (account a, offsets 0..n-1) goes ahead, released by one
	// more event, which waits for B.
	if done := handle(bruteForceBatch("a@x", n+1, start, 0)); len(done) != 0 {
		t.Fatalf("%d events done while their batch's write travels", len(done))
	}
	staged, err := outbox.Pending(ctx, "g/t/0")
	if err != nil || len(staged) == 0 {
		t.Fatalf("batch A's alerts not staged before its write: %v, %v", staged, err)
	}

	// A lands; batch B (account b) runs and goes ahead. A's alerts are
	// published beside it.
	close(gateA)
	done := handle(bruteForceBatch("b@x", n, start.Add(time.Duration(n+1)*time.Second), n+1))
	waitFor(t, "batch A's alerts published", func() bool { return pub.count() >= len(staged) })
	// A Tick while the backlog still comes reaps A's delivery without
	// waiting for B.
	more, err := d.Tick(ctx, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	done = append(done, more...)
	if len(done) != n {
		t.Errorf("%d events done once A landed and its alerts were published; want A's %d", len(done), n)
	}
	pending, err := outbox.Pending(ctx, "g/t/0")
	if err != nil {
		t.Fatal(err)
	}
	var ofB int
	for _, a := range pending {
		if a.User == "b@x" {
			ofB++
		}
	}
	if ofB == 0 {
		t.Fatalf("the outbox was cleared while batch B's write travelled: it holds %d alerts, none of b@x", len(pending))
	}

	// B lands; Revoke finishes everything.
	close(gateB)
	more, err = d.Revoke(ctx, []int32{0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(done) + len(more); got != 2*n+1 {
		t.Errorf("%d events done after Revoke; want %d", got, 2*n+1)
	}
	if pub.count() < len(staged)+ofB {
		t.Errorf("%d alerts published; want A's %d and B's %d", pub.count(), len(staged), ofB)
	}
}
