package kafka

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/atod-project/atod/ingest"
)

// partialHandler takes the first take events of a batch of partition
// fail and then fails, as the detector does when the generation's context
// ends mid-batch; it takes every other batch whole. Revoke finishes what
// it took.
type partialHandler struct {
	fail   int32
	take   int
	failed bool
	got    map[int32][]int64
	held   []ingest.Position
}

func (h *partialHandler) Assign(context.Context, []Assignment) error { return nil }

func (h *partialHandler) Handle(_ context.Context, b Batch, done []ingest.Position) ([]ingest.Position, error) {
	for i, e := range b.Events {
		if b.Partition == h.fail && !h.failed && i == h.take {
			h.failed = true
			return done, context.Canceled
		}
		h.got[b.Partition] = append(h.got[b.Partition], e.Pos.Offset)
		h.held = append(h.held, e.Pos)
	}
	return done, nil
}

func (h *partialHandler) Tick(_ context.Context, _ time.Time, done []ingest.Position) ([]ingest.Position, error) {
	return done, nil
}

func (h *partialHandler) Revoke(_ context.Context, _ []int32, done []ingest.Position) ([]ingest.Position, error) {
	done, h.held = append(done, h.held...), nil
	return done, nil
}

// testSession is a session over h with the given partitions assigned.
func testSession(h Handler, parts ...int32) *session {
	s := &session{c: &Consumer{stats: Stats{Partitions: map[int32]PartitionStats{}}}, h: h, parts: parts,
		tracks: map[int32]*tracker{}, stopped: map[int32]bool{},
		batch: map[int32][]ingest.Event{}, newest: map[int32]time.Time{}, behind: map[int32]int64{}}
	for _, p := range parts {
		s.tracks[p] = &tracker{}
	}
	return s
}

func recs(p int32, from, to int64) []record {
	var out []record
	for off := from; off <= to; off++ {
		out = append(out, record{partition: p, offset: off,
			events: []ingest.Event{{User: "u", Pos: ingest.Position{Partition: p, Offset: off}}}})
	}
	return out
}

// A Handle that fails midway leaves the rest of its batch untaken; the
// session must then hand on no later record of that partition, or the
// detector would apply an account's later events without its earlier
// ones, and its applied mark would make the next owner skip those.
func TestFailedHandleStopsItsPartition(t *testing.T) {
	h := &partialHandler{fail: 0, take: 2, got: map[int32][]int64{}}
	s := testSession(h, 0, 1)

	s.recs = append(recs(0, 0, 4), recs(1, 0, 1)...)
	if err := s.handle(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("handle: %v, want the handler's error", err)
	}
	if len(s.recs) != 0 {
		t.Fatalf("%d records left in the round after it failed", len(s.recs))
	}
	// What finish does: the records that came meanwhile, then Revoke.
	s.recs = append(recs(0, 5, 6), recs(1, 2, 2)...)
	if err := s.handle(context.Background()); err != nil {
		t.Fatal(err)
	}
	var err error
	s.done, err = h.Revoke(context.Background(), s.parts, s.done[:0])
	if err != nil {
		t.Fatal(err)
	}
	s.ack(s.done)

	want := map[int32][]int64{0: {0, 1}, 1: {0, 1, 2}}
	if !reflect.DeepEqual(h.got, want) {
		t.Errorf("handed on %v, want %v: partition 0 stops at its failed batch, partition 1 loses nothing", h.got, want)
	}
	if off, _, _ := s.tracks[0].commitPoint(); off != 2 {
		t.Errorf("partition 0 commits %d, want 2: the first record its failed batch left", off)
	}
	if off, _, _ := s.tracks[1].commitPoint(); off != 3 {
		t.Errorf("partition 1 commits %d, want 3", off)
	}
}

// batchRecorder keeps the batches it is handed.
type batchRecorder struct {
	partialHandler
	batches []Batch
}

func (h *batchRecorder) Handle(_ context.Context, b Batch, done []ingest.Position) ([]ingest.Position, error) {
	b.Events = append([]ingest.Event(nil), b.Events...)
	h.batches = append(h.batches, b)
	return done, nil
}

// A batch says how many records its partition held after its last one,
// from the high watermark that came with that record: the detector's sign
// of a backlog.
func TestBatchSaysHowFarBehind(t *testing.T) {
	h := &batchRecorder{}
	s := testSession(h, 0, 1)
	r0 := recs(0, 10, 14)
	for i := range r0 {
		r0[i].highWater = 100
	}
	r1 := recs(1, 0, 2)
	for i := range r1 {
		r1[i].highWater = 3 // the last record is the partition's end
	}
	s.recs = append(r0, r1...)
	if err := s.handle(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := map[int32]int64{}
	for _, b := range h.batches {
		got[b.Partition] = b.Behind
	}
	if want := map[int32]int64{0: 85, 1: 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("Behind %v, want %v", got, want)
	}
	h.batches = nil
	s.recs = recs(0, 15, 15) // no high watermark known: nothing behind
	if err := s.handle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(h.batches) != 1 || h.batches[0].Behind != 0 {
		t.Errorf("batches %+v, want one with nothing behind", h.batches)
	}
}
