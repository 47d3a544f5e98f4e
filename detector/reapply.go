package detector

import (
	"slices"
	"time"

	"github.com/atod-project/atod/enrich"
)

// Kafka delivers at least once: after a crash, the records after a
// partition's last committed offset come again, though the state saved
// before the crash may already hold some of them. Applying such an event a
// second time would count a failure twice and could move an incident's
// start, and with it the alert's id, so the restarted instance would
// publish the same alert again under another id.
//
// The account's state therefore records how far its partition has been
// applied (AppliedMark). An event at or past that offset is new. One before
// it may or may not have been applied: the Sequencer releases an
// account's events in event-time order, not offset order, and a record
// still held when the process died was never applied although a later
// offset was. Event time tells them apart: everything applied to the
// account is at or before its Seen time and everything held back is at or
// after it, so an earlier event was applied, a later one was not, and for
// one at exactly Seen the mark keeps the hashes of the events applied at
// that instant. That holds only if no record before the mark was left out
// while later ones were applied: the consumer hands on no more of a
// partition after a batch it failed midway (ingest/kafka's handle).
//
// The check is per account because Kafka is keyed by account: its events
// come from one partition, in order. The address and organisation states
// an event also changes were saved in the same batch as the account's
// (atomically on a single Redis node), so the account's mark speaks for
// them too.

// AppliedMark is how far an account's partition has been applied.
type AppliedMark struct {
	Partition int32
	Next      int64    // offset after the highest record applied; 0: none
	AtSeen    []uint64 // hashes of the events applied at the account's Seen time, capped
}

// maxAtSeen caps AppliedMark.AtSeen: more events of one account at one
// instant than this are a flood, where counting one twice does no harm.
const maxAtSeen = 8

// TrackPositions makes the engine record each event's Kafka position in
// its account's state and skip events that state shows as applied. Live
// mode over Kafka turns it on; replay and file sources, whose positions
// are zero, leave it off.
func (e *Engine) TrackPositions() { e.trackPos = true }

// Duplicates returns how many failed sign-ins were skipped as duplicates
// (EngineStats.Duplicates).
func (e *Engine) Duplicates() int64 { return e.stats.Duplicates }

// Reapplied returns how many events were skipped as applied before;
// cheaper than Stats.
func (e *Engine) Reapplied() int64 { return e.stats.Reapplied }

// reapplied reports whether ev was applied to u before: see above.
func (e *Engine) reapplied(ev *enrich.Event, u *UserState) bool {
	m := &u.Applied
	if !e.trackPos || m.Next == 0 || m.Partition != ev.Pos.Partition || ev.Pos.Offset >= m.Next {
		return false
	}
	switch {
	case ev.Time.Before(u.Seen):
		return true
	case ev.Time.Equal(u.Seen):
		return slices.Contains(m.AtSeen, eventHash(ev))
	}
	return false
}

// markApplied records ev in u's mark; prevSeen is u.Seen before ev.
//
// An early event (later than the ceiling) is not marked: it runs out of
// order, ahead of events of its account at lower offsets that the
// Sequencer still holds, and a mark past them made those be skipped as
// applied when released, though they never ran. Read again after a
// crash, an early event counts twice.
func (e *Engine) markApplied(ev *enrich.Event, u *UserState, prevSeen time.Time) {
	if !e.trackPos || e.early(ev) {
		return
	}
	m := &u.Applied
	if m.Partition != ev.Pos.Partition {
		// The account moved to another partition (producers re-keyed):
		// the old partition's offsets say nothing about the new one's.
		*m = AppliedMark{Partition: ev.Pos.Partition}
	}
	m.Next = max(m.Next, ev.Pos.Offset+1)
	switch {
	case ev.Time.After(prevSeen):
		m.AtSeen = append(m.AtSeen[:0], eventHash(ev))
	case ev.Time.Equal(prevSeen) && len(m.AtSeen) < maxAtSeen:
		m.AtSeen = append(m.AtSeen, eventHash(ev))
	}
}

// eventHash identifies an event within one account and instant, by its id
// when it has one and else by what it says. It is stored, so it must not
// change between processes or versions: FNV-1a, not maphash.
func eventHash(ev *enrich.Event) uint64 {
	h := fnvOffset
	if ev.ID != "" {
		return fnvString(h, ev.ID)
	}
	for _, s := range [...]string{ev.Type, ev.Outcome, ev.Reason, ev.SessionID} {
		h = fnvString(h, s)
		h *= fnvPrime // a zero byte between fields: FNV-1a of 0 is a multiply
	}
	a := ev.IP.As16()
	for _, b := range a {
		h = (h ^ uint64(b)) * fnvPrime
	}
	return h
}

const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}
