package kafka

import (
	"context"
	"time"

	"github.com/atod-project/atod/ingest"
)

// handle tracks the records of s.recs, dead-letters the refused ones and
// hands the events on, one Batch per partition; s.recs is empty after it.
//
// A Handle that fails (in a rebalance, mostly: the generation's context
// ends mid-batch and the next save fails) may have taken any first part
// of its batch: the detector holds what it took, and Revoke finishes it.
// The partition is then stopped: its later records are not handed on in
// this generation, not even by finish, but read again from the commit by
// the partition's next owner. Handing them on would apply an account's
// later events without the earlier ones the failed batch dropped; the
// account's applied mark would then cover those, and the next owner would
// skip them as applied (detector/reapply.go): an event lost, an incident
// starting later, an alert with another id or none.
func (s *session) handle(ctx context.Context) error {
	defer func() {
		clear(s.recs)
		s.recs = s.recs[:0]
	}()
	if len(s.recs) == 0 {
		return nil
	}
	var records, events, dead int64
	var dlq []*record
	now := time.Now()
	for i := range s.recs {
		r := &s.recs[i]
		t := s.tracks[r.partition]
		if t == nil || s.stopped[r.partition] {
			continue // t == nil cannot happen: fetchers read assigned partitions only
		}
		records++
		switch {
		case r.reason != "":
			t.add(r.offset, 1, r.time, r.fetched)
			dlq = append(dlq, r)
			dead++
		case r.handled:
			t.add(r.offset, 0, r.time, r.fetched)
			s.handled(r.time, now)
			s.finished = true
		case len(r.events) == 0: // an envelope of unusable records only
			t.add(r.offset, 1, r.time, r.fetched)
			dlq = append(dlq, r)
			dead += int64(len(r.parts))
		default:
			n := len(r.events)
			if len(r.parts) > 0 {
				n++ // done when its dead letters are written, too
				dlq = append(dlq, r)
				dead += int64(len(r.parts))
			}
			t.add(r.offset, n, r.time, r.fetched)
			s.batch[r.partition] = append(s.batch[r.partition], r.events...)
			if r.time.After(s.newest[r.partition]) {
				s.newest[r.partition] = r.time
			}
			s.behind[r.partition] = max(r.highWater-r.offset-1, 0)
			events += int64(len(r.events))
		}
	}
	s.updateStats(records, events, dead)
	if len(dlq) > 0 {
		if err := s.deadLetter(ctx, dlq); err != nil {
			return err
		}
	}
	for _, p := range s.parts {
		b := s.batch[p]
		if len(b) == 0 {
			continue
		}
		var err error
		s.done, err = s.h.Handle(ctx, Batch{Partition: p, Events: b, Newest: s.newest[p], Behind: s.behind[p]}, s.done[:0])
		delete(s.newest, p)
		delete(s.behind, p)
		s.ack(s.done)
		clear(b)
		s.batch[p] = b[:0]
		if err != nil {
			s.stopped[p] = true
			return err
		}
	}
	return nil
}

// ack notes the events the handler finished.
func (s *session) ack(done []ingest.Position) {
	var now time.Time // read once: a catch-up batch finishes 100,000 records at once
	for _, pos := range done {
		t := s.tracks[pos.Partition]
		if t == nil {
			continue
		}
		if ts, complete := t.done(pos.Offset); complete {
			if now.IsZero() {
				now = time.Now()
			}
			s.handled(ts, now)
			s.finished = true
		}
	}
}

// handled reports, for the latency metric, a record with timestamp ts
// fully handled at now.
func (s *session) handled(ts, now time.Time) {
	if f := s.c.opts.OnHandled; f != nil && !ts.IsZero() {
		f(max(now.Sub(ts), 0))
	}
}

func (s *session) updateStats(records, events, dead int64) {
	last := map[int32]*record{}
	for i := range s.recs {
		last[s.recs[i].partition] = &s.recs[i]
	}
	s.c.update(func(st *Stats) {
		st.Records += records
		st.Events += events
		st.DeadLetters += dead
		for p, r := range last {
			ps := st.Partitions[p]
			ps.Lag = max(r.highWater-r.offset-1, 0)
			ps.LastRecord = r.time
			ps.Held = int64(s.tracks[p].held())
			st.Partitions[p] = ps
		}
	})
}
