package main

import "time"

// defaultMaxHold is kafka.max_hold's default. The Sequencer holds an
// event until the partition's event time has moved detector.lateness past
// it, which at the head of a live stream means holding it for about
// lateness of wall-clock time (a minute by default): every alert would
// come a minute late. max_hold caps that hold in wall-clock time. When
// producers key by account, an account's events reach atod in the order
// they were produced whatever the hold, so what the hold still buys is
// order across accounts, which the address rules use and which windows of
// minutes do not need to the second. While atod catches up on a backlog,
// event time runs far ahead of the clock and detector.lateness decides, as
// in replay. See docs/kafka.md for the measurements behind the figure.
const defaultMaxHold = 50 * time.Millisecond

// earlyAhead is how far ahead of this clock an event's time may lie and
// still move a partition's event time. A later one (a source whose clock,
// time zone or year is wrong; kafka.max_future dead-letters the worst) is
// run at once, out of order, and counted in atod_early_events_total: it
// would otherwise make every event after it due at once, ending the order
// within detector.lateness until the others caught up with it.
const earlyAhead = 5 * time.Minute

// catchUpBehind is how far a partition's records may lag the clock before
// it counts as working off a backlog.
const catchUpBehind = 5 * time.Second

// holdClock turns wall-clock time into an event-time watermark for one
// partition: once an event has waited max_hold, it is due, whatever the
// partition brought since. It remembers, for each moment the partition's
// newest event time grew, that time; the newest event time as of max_hold
// ago is a watermark that every event which arrived by then lies behind.
type holdClock struct {
	marks    []holdMark
	newest   time.Time // latest event time seen
	released time.Time // highest watermark handed out
}

type holdMark struct{ wall, newest time.Time }

// arrived notes events that arrived at now, the latest of them at newest
// (zero: none did).
//
// Events no newer than the newest seen get a mark too when none is
// pending: the Sequencer holds an event of exactly the time last released
// (two sign-ins in one second of a log with one-second timestamps), and
// without a mark it waited for a newer event, which a quiet partition
// may never bring. A pending mark is at the newest time already, and
// releases them sooner.
func (h *holdClock) arrived(now, newest time.Time) {
	switch {
	case newest.After(h.newest):
		h.newest = newest
	case newest.IsZero() || len(h.marks) > 0:
		return
	}
	h.marks = append(h.marks, holdMark{wall: now, newest: h.newest})
}

// due returns the watermark for now, and false when no mark is due.
func (h *holdClock) due(now time.Time, maxHold time.Duration) (time.Time, bool) {
	cut := now.Add(-maxHold)
	n := 0
	for n < len(h.marks) && !h.marks[n].wall.After(cut) {
		n++
	}
	if n == 0 {
		return time.Time{}, false
	}
	wm := h.marks[n-1].newest
	h.marks = append(h.marks[:0], h.marks[n:]...)
	if wm.Before(h.released) {
		return time.Time{}, false
	}
	// The same watermark again releases what arrived at exactly that
	// time since (see arrived).
	h.released = wm
	return wm, true
}

// skip forgets the marks due at now without releasing them: while a
// partition works off a backlog, event time paces the release.
func (h *holdClock) skip(now time.Time, maxHold time.Duration) {
	cut := now.Add(-maxHold)
	n := 0
	for n < len(h.marks) && !h.marks[n].wall.After(cut) {
		n++
	}
	h.marks = append(h.marks[:0], h.marks[n:]...)
}

// all returns the watermark that releases everything seen.
func (h *holdClock) all() time.Time {
	h.marks = h.marks[:0]
	h.released = h.newest
	return h.newest
}
