package main

import (
	"context"
	"slices"
	"time"
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
// for each partition still working off a backlog, no later than its
// Frontier and before the earliest event its Sequencer holds; nothing
// while a partition assigned less than assignWait ago has brought none;
// farFuture when none holds the merge back.
func (d *liveDetector) alignedUpTo(now time.Time) time.Time {
	upTo := farFuture
	for _, lp := range d.parts {
		if lp.hold.newest.IsZero() && now.Sub(lp.assigned) < assignWait {
			return time.Time{}
		}
		if !lp.catchingUp(now, d.maxHold) {
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
	if tail := batch[k:]; len(tail) > 0 {
		// Each partition's part of the tail is the end of what was
		// taken from it, in order.
		for _, lp := range d.sorted() {
			d.tail = d.tail[:0]
			for i := range tail {
				if tail[i].Pos.Partition == lp.id {
					d.tail = append(d.tail, tail[i])
				}
			}
			lp.pipe.PutBack(d.tail)
		}
		clear(d.tail)
	}
	var err error
	if k > 0 {
		p := d.togetherPipeline()
		p.SetBatchSize(size)
		err = p.Process(ctx, batch[:k])
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
