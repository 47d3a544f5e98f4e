package main

import (
	"context"
	"slices"
	"time"

	"github.com/atod-project/atod/enrich"
)

// The partitions' events are merged by event time before the rules see
// them (see detector/pipeline_align.go): a partition only orders what it
// reads (Pipeline.Hold), and align runs, as one batch of all partitions,
// what is ready and what no partition still working off a backlog may yet
// bring earlier events than. Run partition by partition, as they were, a
// backlog gave the address and organisation rules events hours apart in
// either order: on the demo tenant in four partitions, 10 of its 28
// alerts differed from replay's (TestRunDemoFourPartitions).
//
// At the head of the stream a partition's events become ready once they
// have waited max_hold (Tick), and a partition at the head holds no other
// back: its clock may run ahead or behind the others', and waiting for
// their event time would hold its events for as long as the skew.

// assignWait is how long a partition assigned without bringing a record
// yet holds back the others' merge: its first fetch may hold a backlog
// older than theirs. After it, a partition that brought nothing is taken
// to be empty.
const assignWait = catchUpBehind

// alignBatch is the merged batch of a backlog: kafka.catch_up_events,
// all partitions' together. With Redis state a batch costs a load and a
// save per distinct account and address, so a merged batch must hold as
// many events per account as each partition's catch-up batch did: merged
// batches of one partition's share wrote three times the keys and ran at
// half the rate (BENCHMARKS.md, session 16).
func (d *liveDetector) alignBatch() int {
	if d.catchUp > 0 {
		return d.catchUp
	}
	return defaultCatchUpEvents
}

// alignBudget is how many events the partitions may hold, ready or in
// their Sequencers, before what is ready runs whatever the slowest
// partition has passed: a partition whose records come slowly (a far
// broker) must not make the others hold their backlogs in memory. Twice
// alignBatch: the merged batch itself takes one.
func (d *liveDetector) alignBudget() int { return 2 * d.alignBatch() }

// farFuture stands for "no partition holds the merge back".
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// alignedUpTo returns the event time up to which ready events may run:
// for each partition still working off a backlog with records waiting in
// Kafka, no later than its Frontier and before the earliest event its
// Sequencer holds; nothing
// while a partition assigned less than assignWait ago has brought none;
// farFuture when none holds the merge back.
func (d *liveDetector) alignedUpTo(now time.Time) time.Time {
	upTo := farFuture
	for _, lp := range d.parts {
		if lp.hold.newest.IsZero() && now.Sub(lp.assigned) < assignWait {
			return time.Time{}
		}
		if !lp.waiting || !lp.catchingUp(now, d.maxHold) {
			// Only a partition with records waiting in Kafka holds the
			// others back: one whose timestamps lag for good (a shipper
			// stamping records with the log line's time) held every
			// partition's fresh events for its lag plus the lateness
			// (found by a review).
			continue
		}
		if f := lp.pipe.Frontier(); f.Before(upTo) {
			upTo = f
		}
		if t, ok := lp.pipe.FirstHeld(); ok && !t.After(upTo) {
			upTo = t.Add(-time.Nanosecond)
		}
	}
	return upTo
}

// align runs what the partitions hold ready up to alignedUpTo, merged by
// time: once it makes a catch-up batch, or whenever no partition working
// off a backlog has more records waiting in Kafka, or when they hold more
// than alignBudget, or when final (Revoke: what is due runs however
// little, and the rest is read again by the partitions' next owner).
func (d *liveDetector) align(ctx context.Context, now time.Time, final bool) error {
	upTo := d.alignedUpTo(now)
	due, held, waiting := 0, 0, false
	for _, lp := range d.sorted() {
		due += lp.pipe.ReadyUpTo(upTo)
		held += lp.pipe.Ready() + lp.pipe.Held()
		waiting = waiting || lp.waiting && lp.catchingUp(now, d.maxHold)
	}
	if held > d.alignBudget() {
		upTo = farFuture // what is ready runs; the Sequencers keep their order
		due = held
	}
	if due == 0 || waiting && due < d.alignBatch() && !final {
		return nil
	}
	d.released, d.runs = d.released[:0], d.runs[:0]
	for _, lp := range d.sorted() {
		var took bool
		if d.released, took = lp.pipe.TakeReady(upTo, d.released); !took {
			// A batch of its own whose save failed runs first.
			if err := lp.pipe.Drain(ctx); err != nil {
				return err
			}
			d.released, _ = lp.pipe.TakeReady(upTo, d.released)
		}
		if n := len(d.released); len(d.runs) == 0 || d.runs[len(d.runs)-1] < n {
			d.runs = append(d.runs, n)
		}
	}
	err := d.runAligned(ctx, waiting && !final)
	for _, lp := range d.parts {
		d.count(lp)
	}
	return err
}

// runEarly runs at once, out of order, the events of every partition
// whose time lies past the ceiling (a clock ahead; see Pipeline.Hold):
// in the Handle that brought them, under the ceiling that made them
// early, for the engine does not mark them applied (detector/reapply.go).
// Left for a later tick, a ceiling moved on in between made one just past
// it count as ordinary, and its mark skipped the older events of its
// account that the Sequencer still held (found by a review).
func (d *liveDetector) runEarly(ctx context.Context) error {
	d.early = d.early[:0]
	for _, lp := range d.sorted() {
		d.early = lp.pipe.TakeEarly(d.early)
	}
	if len(d.early) == 0 {
		return nil
	}
	p := d.togetherPipeline()
	p.SetBatchSize(d.alignBatch())
	ran, err := p.ProcessSome(ctx, d.early)
	if rest := d.early[ran:]; len(rest) > 0 {
		for _, lp := range d.sorted() {
			d.tail = d.tail[:0]
			for i := range rest {
				if rest[i].Pos.Partition == lp.id {
					d.tail = append(d.tail, rest[i])
				}
			}
			lp.pipe.PutBackEarly(d.tail)
		}
		clear(d.tail)
	}
	clear(d.early)
	d.early = d.early[:0]
	return err
}

// runAligned runs what align took, merged by time; with whole, only whole
// catch-up batches, and the rest goes back to its partitions: one event
// beyond a full batch made a batch of its own, which waited for the full
// batch's write instead of letting it travel while the next batch ran.
func (d *liveDetector) runAligned(ctx context.Context, whole bool) error {
	batch := d.released
	if len(d.runs) > 1 {
		d.merged = mergeRuns(d.merged[:0], d.released, d.runs)
		batch = d.merged
	}
	size := d.alignBatch()
	k := len(batch)
	if whole {
		k -= k % size
	}
	d.putBack(batch[k:])
	var err error
	if k > 0 {
		p := d.togetherPipeline()
		p.SetBatchSize(size)
		var ran int
		ran, err = p.ProcessSome(ctx, batch[:k])
		// What an error left goes back before the tail: a partition
		// whose Handle did not fail keeps bringing records, which must
		// not run, and be marked applied, ahead of these (found by a
		// review: the next owner then skipped them as applied).
		d.putBack(batch[ran:k])
		if n := p.Conflicts(); n > d.togetherConflict {
			d.metrics.conflicts.Add(float64(n - d.togetherConflict))
			d.togetherConflict = n
		}
	}
	clear(d.released)
	clear(d.merged)
	d.released, d.merged, d.runs = d.released[:0], d.merged[:0], d.runs[:0]
	return err
}

// putBack returns events align took and did not run to the front of
// their partitions' ready events; each partition's part is, in order,
// the end of what was taken from it.
func (d *liveDetector) putBack(events []enrich.Event) {
	if len(events) == 0 {
		return
	}
	for _, lp := range d.sorted() {
		d.tail = d.tail[:0]
		for i := range events {
			if events[i].Pos.Partition == lp.id {
				d.tail = append(d.tail, events[i])
			}
		}
		lp.pipe.PutBack(d.tail)
	}
	clear(d.tail)
}

// sorted returns the partitions by number, so that what several hold at
// one time is merged in the same order in every run (a map's order
// changes from run to run).
func (d *liveDetector) sorted() []*livePartition {
	d.order = d.order[:0]
	for _, lp := range d.parts {
		d.order = append(d.order, lp)
	}
	slices.SortFunc(d.order, func(a, b *livePartition) int { return int(a.id) - int(b.id) })
	return d.order
}
