package detector

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/enrich"
)

// Events that arrive up to the lateness out of order come out sorted by
// time, ties in arrival order, across many chunks of the held queue and
// with releases between the pushes; nothing is lost or duplicated.
func TestSequencerOrdersAcrossChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	const n = 20 * queueChunk
	in := make([]enrich.Event, n)
	for i := range in {
		// Mostly in order, some a few seconds back, many sharing a second.
		d := time.Duration(i/3)*time.Second - time.Duration(rng.IntN(30))*time.Second
		in[i] = ev(at(d), user(fmt.Sprintf("u%d", i)))
	}
	s := NewSequencer(time.Minute)
	var out []enrich.Event
	for i := range in {
		out = s.Push(in[i], out)
		if i%1000 == 999 {
			out = s.Advance(in[i].Time.Add(-2*time.Minute), out)
		}
	}
	out = s.Flush(out)
	want := slices.Clone(in)
	slices.SortStableFunc(want, func(a, b enrich.Event) int { return a.Time.Compare(b.Time) })
	if s.Late() != 0 || s.Pending() != 0 || len(out) != n {
		t.Fatalf("late %d, pending %d, released %d of %d", s.Late(), s.Pending(), len(out), n)
	}
	for i := range want {
		if out[i].User != want[i].User {
			t.Fatalf("event %d: %s at %s, want %s at %s", i, out[i].User, out[i].Time, want[i].User, want[i].Time)
		}
	}
}

// A long stream with a steady number held keeps a steady number of
// chunks: released chunks are reused, not piled up.
func TestSequencerQueueStaysBounded(t *testing.T) {
	s := NewSequencer(time.Minute)
	var out []enrich.Event
	for i := range 100_000 {
		// 1,000 events a minute: about 1,000 held.
		out = s.Push(ev(at(time.Duration(i)*60*time.Millisecond)), out[:0])
	}
	q := &s.pending
	if held := s.Pending(); held < 990 || held > 1010 {
		t.Fatalf("held %d, want about 1,000", held)
	}
	if len(q.chunks) > 1000/queueChunk+2 || len(q.spare) > maxSpareChunks {
		t.Errorf("%d chunks and %d spare for %d held events", len(q.chunks), len(q.spare), s.Pending())
	}
	// Releasing a big hold at once keeps only a few chunks for reuse.
	for i := range 10_000 {
		out = s.Push(ev(at(2*time.Hour+time.Duration(i)*time.Millisecond)), out[:0])
	}
	out = s.Flush(out[:0])
	if len(out) < 10_000 || len(q.chunks) > 1 || len(q.spare) > maxSpareChunks {
		t.Errorf("flushed %d events; %d chunks and %d spare left", len(out), len(q.chunks), len(q.spare))
	}
}

// batchCountingStore counts the engine's batches by its Loads.
type batchCountingStore struct {
	refusingStore
	loads int
}

func (s *batchCountingStore) Load(ctx context.Context, users []string, addrs []netip.Addr) ([]*UserState, []*AddrState, error) {
	s.loads++
	return s.refusingStore.Load(ctx, users, addrs)
}

// With a ceiling (live mode: the clock plus a margin), an event later than
// it is released at once and does not move the time the Sequencer orders
// by: the events after it are still put in order within the lateness.
func TestSequencerCeilingKeepsOrderAfterAnEarlyEvent(t *testing.T) {
	s := NewSequencer(time.Minute)
	s.SetCeiling(t0.Add(5 * time.Minute))
	at := func(d time.Duration, id string) enrich.Event {
		e := enrich.Event{}
		e.Time, e.ID = t0.Add(d), id
		return e
	}
	var out []enrich.Event
	out = s.Push(at(0, "a"), out)
	out = s.Push(at(2*time.Hour, "early"), out)
	if len(out) != 1 || out[0].ID != "early" || s.Early() != 1 {
		t.Fatalf("after the early event: released %v, early %d; want it alone, at once", eventIDs(out), s.Early())
	}
	out = s.Push(at(20*time.Second, "c"), out[:0])
	out = s.Push(at(10*time.Second, "b"), out) // 10 s late: within the lateness
	out = s.Push(at(2*time.Minute, "d"), out)
	if got := eventIDs(out); got != "a b c" {
		t.Errorf("released %q, want \"a b c\": the early event must not end the ordering", got)
	}
	if s.Late() != 0 {
		t.Errorf("%d late events, want 0", s.Late())
	}
}

func eventIDs(es []enrich.Event) string {
	ids := make([]string, len(es))
	for i := range es {
		ids[i] = es[i].ID
	}
	return strings.Join(ids, " ")
}
