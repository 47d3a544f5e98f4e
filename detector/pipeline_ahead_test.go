package detector

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/atod-project/atod/enrich"
)

// scriptedAheadStore is a refusingStore that saves ahead: each SaveAhead
// and Save takes the next result of script (nil when it runs out), and
// log records the calls in order.
type scriptedAheadStore struct {
	refusingStore
	script []error
	log    []string
}

func (s *scriptedAheadStore) next() error {
	if len(s.script) == 0 {
		return nil
	}
	err := s.script[0]
	s.script = s.script[1:]
	return err
}

func (s *scriptedAheadStore) Save(_ context.Context, users []*UserState, _ []*AddrState) error {
	s.log = append(s.log, "save "+users[0].User)
	return s.next()
}

func (s *scriptedAheadStore) SavesAhead() bool { return true }

func (s *scriptedAheadStore) SaveAhead(_ context.Context, users []*UserState, _ []*AddrState) func() error {
	name := users[0].User // the slice is the engine's, reused
	s.log = append(s.log, "ahead "+name)
	err := s.next()
	return func() error {
		s.log = append(s.log, "confirmed "+name)
		return err
	}
}

// livePipelines returns n Pipelines of one batch event each over one
// engine, as atod run has one per partition, logging their hooks.
func livePipelines(t *testing.T, store Store, n int, log *[]string) (*Engine, []*Pipeline) {
	t.Helper()
	eng, err := NewEngine(DefaultConfig(), store, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	ps := make([]*Pipeline, n)
	for i := range ps {
		p := NewPipeline(eng, func(context.Context, Alert) error { return nil })
		p.SetBatchSize(1)
		p.BeforeSave(func(context.Context, []Alert) error {
			*log = append(*log, fmt.Sprintf("stage %d", i))
			return nil
		})
		p.OnProcessed(func(_ context.Context, evs []enrich.Event) error {
			for _, e := range evs {
				*log = append(*log, fmt.Sprintf("done %d %s", i, e.User))
			}
			return nil
		})
		ps[i] = p
	}
	return eng, ps
}

// pushRun gives p one event of user u, at t0 plus minute minutes, and
// runs it.
func pushRun(ctx context.Context, p *Pipeline, u string, minute int) error {
	e := ev(user(u), at(time.Duration(minute)*time.Minute))
	if err := p.Push(ctx, e); err != nil {
		return err
	}
	return p.Advance(ctx, e.Time)
}

// runEach gives the i-th Pipeline one event of users[i], a minute apart,
// and runs it.
func runEach(t *testing.T, ps []*Pipeline, users ...string) {
	t.Helper()
	for i, u := range users {
		if err := pushRun(context.Background(), ps[i], u, i); err != nil {
			t.Fatal(err)
		}
	}
}

// One partition's batch is saved while the next partition's runs; its
// alerts are staged before its write is sent, and its events are done
// only once the write is confirmed.
func TestSaveAheadAcrossPipelines(t *testing.T) {
	store := &scriptedAheadStore{}
	var hooks []string
	eng, ps := livePipelines(t, store, 2, &hooks)
	ctx := context.Background()
	runEach(t, ps, "a@x", "b@x")
	if got, want := strings.Join(hooks, ", "), "stage 0, done 0 a@x, stage 1"; got != want {
		t.Errorf("hooks before settling: %s; want %s", got, want)
	}
	if err := eng.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(store.log, ", "), "ahead a@x, confirmed a@x, ahead b@x, confirmed b@x"; got != want {
		t.Errorf("store calls: %s; want %s", got, want)
	}
	if got := hooks[len(hooks)-1]; got != "done 1 b@x" {
		t.Errorf("last hook %q; want b's batch done", got)
	}
	if eng.Stats().Events != 2 {
		t.Errorf("%d events counted; want 2", eng.Stats().Events)
	}
}

// A refused write of one partition's batch drops the batch another
// partition ran meanwhile: both run again, each counted once, and the
// conflict is the first partition's.
func TestSaveAheadRefusedAcrossPipelines(t *testing.T) {
	store := &scriptedAheadStore{script: []error{ErrConflict}}
	var hooks []string
	eng, ps := livePipelines(t, store, 2, &hooks)
	ctx := context.Background()
	runEach(t, ps, "a@x", "b@x")
	if err := eng.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	want := "ahead a@x, confirmed a@x, save a@x, save b@x"
	if got := strings.Join(store.log, ", "); got != want {
		t.Errorf("store calls: %s; want %s", got, want)
	}
	if got, want := strings.Join(hooks, ", "), "stage 0, stage 0, done 0 a@x, stage 1, done 1 b@x"; got != want {
		t.Errorf("hooks: %s; want %s", got, want)
	}
	if ps[0].Conflicts() != 1 || ps[1].Conflicts() != 0 || eng.Stats().Events != 2 {
		t.Errorf("conflicts %d and %d, events %d; want 1, 0 and 2", ps[0].Conflicts(), ps[1].Conflicts(), eng.Stats().Events)
	}
}

// When the write sent ahead fails and so does the rerun (the context
// ended), the batch's events stay with their Pipeline, which reports them
// unsaved and runs them first next time.
func TestSaveAheadFailedRerunKeepsEvents(t *testing.T) {
	down := errors.New("connection lost")
	store := &scriptedAheadStore{script: []error{down, down}}
	var hooks []string
	eng, ps := livePipelines(t, store, 1, &hooks)
	ctx := context.Background()
	if err := pushRun(ctx, ps[0], "a@x", 0); err != nil {
		t.Fatal(err)
	}
	if err := eng.Settle(ctx); !errors.Is(err, down) {
		t.Fatalf("settle: %v; want the rerun's error", err)
	}
	if !ps[0].Unsaved() {
		t.Fatal("the failed batch's events are not kept")
	}
	if err := ps[0].Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if ps[0].Unsaved() {
		t.Error("still unsaved after a flush that saved")
	}
	if got := hooks[len(hooks)-1]; got != "done 0 a@x" {
		t.Errorf("last hook %q; want the kept batch done", got)
	}
	if eng.Stats().Events != 1 {
		t.Errorf("%d events counted; want 1", eng.Stats().Events)
	}
}

// Abandon forgets the batch in flight once its write is done: its events
// are neither done nor counted, its alerts not emitted, and the next batch
// runs as if it had never been.
func TestAbandonForgetsTheBatchInFlight(t *testing.T) {
	store := &scriptedAheadStore{}
	var hooks []string
	eng, ps := livePipelines(t, store, 1, &hooks)
	runEach(t, ps, "a@x")
	eng.Abandon()
	if got := strings.Join(store.log, ", "); got != "ahead a@x, confirmed a@x" {
		t.Errorf("store calls: %s; want the write waited for", got)
	}
	if eng.Stats().Events != 0 || len(hooks) != 1 {
		t.Errorf("after Abandon: %d events counted, hooks %v; want 0 and only the staging", eng.Stats().Events, hooks)
	}
	runEach(t, ps, "b@x")
	if err := eng.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := hooks[len(hooks)-1]; got != "done 0 b@x" || eng.Stats().Events != 1 {
		t.Errorf("next batch: last hook %q, %d events; want b's batch done, 1", got, eng.Stats().Events)
	}
}

// gatedStore is a store that saves ahead, whose writes land only when
// the test closes gate.
type gatedStore struct {
	refusingStore
	gate chan struct{}
}

func (s *gatedStore) SavesAhead() bool { return true }

func (s *gatedStore) SaveAhead(context.Context, []*UserState, []*AddrState) func() error {
	return func() error {
		<-s.gate
		return nil
	}
}

// Saved tells, without waiting, whether the write in flight has landed,
// and Saving which Pipeline's batch it is.
func TestSavedWithoutWaiting(t *testing.T) {
	store := &gatedStore{gate: make(chan struct{})}
	var hooks []string
	eng, ps := livePipelines(t, store, 2, &hooks)
	if !eng.Saved() || ps[0].Saving() {
		t.Fatal("an engine with nothing in flight is not saved")
	}
	runEach(t, ps, "a@x")
	if eng.Saved() || !ps[0].Saving() || ps[1].Saving() {
		t.Fatalf("write in flight: Saved %v, Saving %v and %v; want false, true, false", eng.Saved(), ps[0].Saving(), ps[1].Saving())
	}
	if got := strings.Join(hooks, ", "); got != "stage 0" {
		t.Errorf("hooks before the write landed: %s; want only the staging", got)
	}
	close(store.gate)
	deadline := time.Now().Add(10 * time.Second)
	for !eng.Saved() {
		if time.Now().After(deadline) {
			t.Fatal("the write landed, and Saved still says it has not")
		}
		time.Sleep(time.Millisecond)
	}
	if err := eng.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := hooks[len(hooks)-1]; got != "done 0 a@x" || ps[0].Saving() {
		t.Errorf("after Settle: last hook %q, Saving %v; want a's batch done, not saving", got, ps[0].Saving())
	}
}

// Push runs whole batches only: an event released beyond a full batch
// waits for the next one (or Drain) rather than making a batch of its own,
// which would settle the full batch's write at once.
func TestPushRunsWholeBatches(t *testing.T) {
	eng, err := NewEngine(DefaultConfig(), NewMemoryStore(0, 0), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	var batches []int
	p := NewPipeline(eng, func(context.Context, Alert) error { return nil })
	p.SetBatchSize(3)
	p.OnProcessed(func(_ context.Context, evs []enrich.Event) error {
		batches = append(batches, len(evs))
		return nil
	})
	ctx := context.Background()
	// Four events within the lateness are held; one far later releases
	// all four at once.
	for i := range 4 {
		if err := p.Push(ctx, ev(user("a@x"), at(time.Duration(i)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	if len(batches) != 0 {
		t.Fatalf("batches %v before the watermark passed; want none", batches)
	}
	if err := p.Push(ctx, ev(user("a@x"), at(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(batches) != "[3]" {
		t.Errorf("batches after the push that released four events: %v; want [3]", batches)
	}
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(batches) != "[3 1]" {
		t.Errorf("batches after Drain: %v; want [3 1]", batches)
	}
}

// A partition given a catch-up batch size holds memory for what it has
// ready, not for the batch it may never fill; and it reaches a large
// batch by doubling, not by append's small steps.
func TestPushGrowsReadyToWhatItHolds(t *testing.T) {
	eng, err := NewEngine(DefaultConfig(), NewMemoryStore(0, 0), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	p := NewPipeline(eng, func(context.Context, Alert) error { return nil })
	const batch = 1 << 18
	p.SetBatchSize(batch)
	ctx := context.Background()
	late := DefaultConfig().Lateness
	push := func(n int) {
		for range n {
			// Each event releases the one pushed a lateness before it.
			if err := p.Push(ctx, ev(user("a@x"), at(late+time.Duration(len(p.ready)+p.Held())*time.Millisecond))); err != nil {
				t.Fatal(err)
			}
		}
	}
	push(10)
	if c := cap(p.ready); c > 4096 {
		t.Errorf("%d events ready: capacity %d, want a few thousand at most", len(p.ready), c)
	}
	grows, last := 0, cap(p.ready)
	for len(p.ready) < 100_000 {
		push(1)
		if c := cap(p.ready); c != last {
			grows, last = grows+1, c
		}
	}
	if grows > 8 || last > batch {
		t.Errorf("to 100,000 ready events: %d reallocations, capacity %d; want at most 8 (doubling) and at most the batch", grows, last)
	}
}

// The engine's Pipelines share the buffers of batches saved ahead: one
// in flight and one spare, however many partitions run, where a spare
// per Pipeline held a copy of a whole catch-up batch per partition.
func TestSaveAheadBuffersAreTheEngines(t *testing.T) {
	var hooks []string
	eng, ps := livePipelines(t, &scriptedAheadStore{}, 6, &hooks)
	seen := map[*inflight]bool{}
	for round := range 4 {
		for i, p := range ps {
			if err := pushRun(context.Background(), p, fmt.Sprintf("u%d@x", i), round*len(ps)+i); err != nil {
				t.Fatal(err)
			}
			seen[eng.flight] = true
		}
	}
	if err := eng.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(seen) > 2 {
		t.Errorf("24 batches of 6 Pipelines went through %d in-flight buffers; want 2, shared by the engine", len(seen))
	}
	if eng.Stats().Events != 24 {
		t.Errorf("%d events counted; want 24", eng.Stats().Events)
	}
}
