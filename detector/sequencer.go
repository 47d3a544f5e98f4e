package detector

import (
	"time"

	"github.com/atod-project/atod/enrich"
)

// Sequencer restores event-time order. Sources deliver events roughly in
// order (a minute out is common); the rules want them sorted. The Sequencer
// holds each event until the newest event time seen is Lateness past it,
// then releases events oldest first; events of the same time keep their
// arrival order. So any arrival order within the lateness gives the same
// output, up to the order of simultaneous events. An event that arrives
// after later events were released is released at once and counted as late:
// still evaluated, only out of order.
//
// A Sequencer is not safe for concurrent use.
type Sequencer struct {
	lateness time.Duration
	// pending holds the events not yet released, sorted, oldest first.
	// Input is nearly sorted, so an arriving event is appended or moved a
	// few places back: cheaper than a heap, and no allocation per event.
	pending  eventQueue
	newest   time.Time // latest event time pushed
	second   time.Time // the latest but one (see push)
	released time.Time // latest event time released
	late     int64
	// ceiling, when set (live mode: the clock plus a margin), is the
	// latest event time that moves newest; see SetCeiling.
	ceiling time.Time
	early   int64
	confirm bool // see ConfirmProgress
}

// SetCeiling makes events later than t early: released at once, out of
// order, without moving the event time the Sequencer orders by. One event
// whose source's clock is hours ahead would otherwise make every event
// after it due at once, and end the ordering within the lateness until
// the others caught up. Live mode sets the wall clock plus a margin;
// replay, which has no clock to compare with, sets none.
func (s *Sequencer) SetCeiling(t time.Time) { s.ceiling = t }

// Early reports how many events arrived later than the ceiling.
func (s *Sequencer) Early() int64 { return s.early }

// ConfirmProgress makes the latest event time but one pace the release,
// for replay, which has no clock for a ceiling: one event far ahead of
// the others (a wrong clock, a wrong year) then waits for a second to
// confirm its time, instead of making every event after it due at once
// and ending the order within the lateness (and, with memory state,
// expiring states as of its time). As events come in order, the release
// lags one event; the event ahead is released when the others reach it,
// or at the end. With a lateness of 0, which asks for no reordering, it
// changes nothing.
func (s *Sequencer) ConfirmProgress() { s.confirm = true }

// NewSequencer returns a Sequencer that holds events back by lateness.
func NewSequencer(lateness time.Duration) *Sequencer {
	return &Sequencer{lateness: lateness}
}

// Push adds e and appends to out every event that is now due, returning the
// extended slice.
func (s *Sequencer) Push(e enrich.Event, out []enrich.Event) []enrich.Event {
	return s.push(&e, out)
}

// push is Push of a copy of *e: events are large, and each copy counts.
func (s *Sequencer) push(e *enrich.Event, out []enrich.Event) []enrich.Event {
	if !s.released.IsZero() && e.Time.Before(s.released) {
		s.late++
		return append(out, *e)
	}
	if !s.ceiling.IsZero() && e.Time.After(s.ceiling) {
		s.early++
		return append(out, *e)
	}
	s.insert(e)
	switch {
	case e.Time.After(s.newest):
		s.second, s.newest = s.newest, e.Time
	case e.Time.After(s.second):
		s.second = e.Time
	}
	progress := s.newest
	if s.confirm && s.lateness > 0 { // a lateness of 0 orders nothing
		progress = s.second
	}
	return s.drain(progress.Add(-s.lateness), out)
}

// Advance releases the events at or before watermark even if no newer event
// came; live mode calls it when a partition is idle so windows still close.
func (s *Sequencer) Advance(watermark time.Time, out []enrich.Event) []enrich.Event {
	return s.drain(watermark, out)
}

// Flush releases everything held, oldest first: the end of a replay.
func (s *Sequencer) Flush(out []enrich.Event) []enrich.Event {
	for s.Pending() > 0 {
		out = s.release(out)
	}
	return out
}

// Late reports how many events arrived after later events had been released.
func (s *Sequencer) Late() int64 { return s.late }

// Pending reports how many events are held back.
func (s *Sequencer) Pending() int { return s.pending.len() }

// insert places e in order, searching from the newest end.
func (s *Sequencer) insert(e *enrich.Event) {
	q := &s.pending
	q.pushBack(e)
	for i := q.len() - 1; i > 0; i-- {
		a, b := q.at(i), q.at(i-1)
		if !eventBefore(a, b) {
			break
		}
		*a, *b = *b, *a
	}
}

func (s *Sequencer) drain(watermark time.Time, out []enrich.Event) []enrich.Event {
	for s.Pending() > 0 && !s.pending.at(0).Time.After(watermark) {
		out = s.release(out)
	}
	return out
}

func (s *Sequencer) release(out []enrich.Event) []enrich.Event {
	e := s.pending.at(0)
	if e.Time.After(s.released) {
		s.released = e.Time
	}
	out = append(out, *e)
	s.pending.popFront()
	return out
}

// eventBefore orders by event time only. Events of the same time keep their
// arrival order: many logs have one-second timestamps, and within a second
// their order is the order things happened (the guesses before the success).
func eventBefore(a, b *enrich.Event) bool { return a.Time.Before(b.Time) }
