package detector

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/atod-project/atod/enrich"
)

// Live mode gives each Kafka partition a Pipeline. While several
// partitions work off a backlog, each would run its catch-up batches in
// turn, and one partition's events ran hours of event time ahead of
// another's: the address and organisation rules, which see every
// account's events, then saw time go back and forth and raised other
// alerts than replay. So while it catches up a partition only orders its
// events (Hold); live mode takes from every partition what is due by the
// slowest partition's Frontier (ReadyPrefix), merges it by time, and runs
// it as one batch of a Pipeline of its own over the same Engine.

// Hold adds an event as Push does, but runs nothing: what the Sequencer
// releases waits among the ready events for ReadyPrefix, Drain or Flush.
// An event later than the ceiling (a clock ahead) waits apart, for
// TakeEarly: among the ready events it would stand in the way of those
// behind it once the ceiling, which moves with the clock, passed it.
func (p *Pipeline) Hold(e enrich.Event) {
	if !p.seq.ceiling.IsZero() && e.Time.After(p.seq.ceiling) {
		p.seq.early++
		e.Early = true
		p.early = append(p.early, e)
		return
	}
	p.ready, _ = p.Order(&e, p.ready)
}

// TakeEarly appends to out the events Hold set apart as early, in the
// order they came, and forgets them: they run at once, out of order, as
// Push runs them.
func (p *Pipeline) TakeEarly(out []enrich.Event) []enrich.Event {
	out = append(out, p.early...)
	clear(p.early)
	p.early = p.early[:0]
	return out
}

// PutBackEarly returns early events taken and not run.
func (p *Pipeline) PutBackEarly(events []enrich.Event) {
	p.early = append(slices.Clone(events), p.early...)
}

// Frontier is the event time up to which the Sequencer has released what
// it holds, from the events pushed so far: events that arrive later are
// at or after it, unless late. Zero before any event.
func (p *Pipeline) Frontier() time.Time { return p.seq.frontier() }

// FirstHeld is the time of the earliest event the Sequencer holds back,
// and false when it holds none.
func (p *Pipeline) FirstHeld() (time.Time, bool) {
	if p.seq.Pending() == 0 {
		return time.Time{}, false
	}
	return p.seq.pending.at(0).Time, true
}

// ReadyUpTo counts, about, the ready events that ReadyPrefix(upTo)
// holds: by binary search, as if the ready events were in time order, which
// they are but for the few late ones. Live mode asks at every
// fetch whether a batch is due, over up to a catch-up batch of ready
// events; counting them one by one cost more than the rules.
func (p *Pipeline) ReadyUpTo(upTo time.Time) int {
	return sort.Search(len(p.ready), func(i int) bool { return p.ready[i].Time.After(upTo) })
}

// Ready reports how many released events wait to be run.
func (p *Pipeline) Ready() int { return len(p.ready) }

// ReadyPrefix is the ready events up to the first one after upTo, the
// Pipeline's own slice, to be read before anything else is done to the
// Pipeline.
func (p *Pipeline) ReadyPrefix(upTo time.Time) []enrich.Event {
	n := 0
	for n < len(p.ready) && !p.ready[n].Time.After(upTo) {
		n++
	}
	return p.ready[:n]
}

// Consume forgets the first n ready events, taken by way of ReadyPrefix.
func (p *Pipeline) Consume(n int) {
	rest := copy(p.ready, p.ready[n:])
	clear(p.ready[rest:])
	p.ready = p.ready[:rest]
}

// PutBack returns events taken by way of ReadyPrefix and not run, all of this
// Pipeline's and in order, to the front of its ready events.
func (p *Pipeline) PutBack(events []enrich.Event) {
	if len(events) == 0 {
		return
	}
	n := len(p.ready)
	p.ready = slices.Grow(p.ready, len(events))[:n+len(events)]
	copy(p.ready[len(events):], p.ready[:n])
	copy(p.ready, events)
}

// ProcessSome is Process that reports how many of events it ran: after an
// error, the rest is the caller's to keep (live mode puts them back into
// their partitions' Pipelines, to run before their later events).
func (p *Pipeline) ProcessSome(ctx context.Context, events []enrich.Event) (int, error) {
	return p.processEvents(ctx, events, p.batchSize, 1)
}

// AdvanceHeld is Advance without running the rules: what the watermark
// releases joins the ready events.
func (p *Pipeline) AdvanceHeld(watermark time.Time) {
	p.ready = p.seq.Advance(watermark, p.ready)
}

// frontier is the watermark the Sequencer drains to on a push: the
// newest event time (the latest but one with ConfirmProgress) less the
// lateness, or what it released last, whichever is later.
func (s *Sequencer) frontier() time.Time {
	progress := s.newest
	if s.confirm && s.lateness > 0 {
		progress = s.second
	}
	f := time.Time{}
	if !progress.IsZero() {
		f = progress.Add(-s.lateness)
	}
	if s.released.After(f) {
		f = s.released
	}
	return f
}
