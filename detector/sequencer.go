package detector

import (
	"container/heap"
	"time"

	"github.com/atod-project/atod/enrich"
)

// Sequencer restores event-time order. Sources deliver events roughly in
// order (a minute out is common); the rules want them sorted. The Sequencer
// holds each event until the newest event time seen is Lateness past it,
// then releases events oldest first. Ties are broken by the event's content,
// not by arrival, so any arrival order within the lateness gives the same
// output. An event that arrives after later events were released is released
// at once and counted as late: still evaluated, only out of order.
//
// A Sequencer is not safe for concurrent use.
type Sequencer struct {
	lateness time.Duration
	pending  eventHeap
	newest   time.Time // latest event time pushed
	released time.Time // latest event time released
	late     int64
}

// NewSequencer returns a Sequencer that holds events back by lateness.
func NewSequencer(lateness time.Duration) *Sequencer {
	return &Sequencer{lateness: lateness}
}

// Push adds e and appends to out every event that is now due, returning the
// extended slice.
func (s *Sequencer) Push(e enrich.Event, out []enrich.Event) []enrich.Event {
	if !s.released.IsZero() && e.Time.Before(s.released) {
		s.late++
		return append(out, e)
	}
	heap.Push(&s.pending, e)
	if e.Time.After(s.newest) {
		s.newest = e.Time
	}
	return s.drain(s.newest.Add(-s.lateness), out)
}

// Advance releases the events at or before watermark even if no newer event
// came; live mode calls it when a partition is idle so windows still close.
func (s *Sequencer) Advance(watermark time.Time, out []enrich.Event) []enrich.Event {
	return s.drain(watermark, out)
}

// Flush releases everything held, oldest first: the end of a replay.
func (s *Sequencer) Flush(out []enrich.Event) []enrich.Event {
	for s.pending.Len() > 0 {
		out = s.release(out)
	}
	return out
}

// Late reports how many events arrived after later events had been released.
func (s *Sequencer) Late() int64 { return s.late }

// Pending reports how many events are held back.
func (s *Sequencer) Pending() int { return s.pending.Len() }

func (s *Sequencer) drain(watermark time.Time, out []enrich.Event) []enrich.Event {
	for s.pending.Len() > 0 && !s.pending[0].Time.After(watermark) {
		out = s.release(out)
	}
	return out
}

func (s *Sequencer) release(out []enrich.Event) []enrich.Event {
	e := heap.Pop(&s.pending).(enrich.Event)
	if e.Time.After(s.released) {
		s.released = e.Time
	}
	return append(out, e)
}

type eventHeap []enrich.Event

func (h eventHeap) Len() int           { return len(h) }
func (h eventHeap) Less(i, j int) bool { return eventBefore(&h[i], &h[j]) }
func (h eventHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)        { *h = append(*h, x.(enrich.Event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = enrich.Event{}
	*h = old[:len(old)-1]
	return e
}

// eventBefore orders by time, then by fields that identify the event, so the
// order of simultaneous events does not depend on arrival.
func eventBefore(a, b *enrich.Event) bool {
	if !a.Time.Equal(b.Time) {
		return a.Time.Before(b.Time)
	}
	for _, p := range [...][2]string{
		{a.ID, b.ID}, {a.User, b.User}, {a.Type, b.Type}, {a.Outcome, b.Outcome},
		{a.Reason, b.Reason}, {a.SessionID, b.SessionID}, {a.DeviceID, b.DeviceID},
	} {
		if p[0] != p[1] {
			return p[0] < p[1]
		}
	}
	if c := a.IP.Compare(b.IP); c != 0 {
		return c < 0
	}
	return a.Items < b.Items
}
