package main

import (
	"context"
	"slices"
	"time"

	"github.com/atod-project/atod/detector"
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
// broker) must not make the others hold their backlogs in memory. Half
// a batch above one, for what the Sequencers hold within the lateness
// while a batch fills; with the batch being run, events take up to about
// two and a half times kafka.catch_up_events.
func (d *liveDetector) alignBudget() int { return d.alignBatch() * 3 / 2 }

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
		if !lp.holdsBack(now, d.maxHold) {
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
// off a backlog has more records waiting in Kafka or a partition at the
// head has events due, or when they hold more than alignBudget, or when
// final (Revoke: what is due runs however little, and the rest is read
// again by the partitions' next owner).
func (d *liveDetector) align(ctx context.Context, now time.Time, final bool) error {
	upTo := d.alignedUpTo(now)
	// Whole batches while a backlog's records wait in Kafka, so that a
	// batch's write travels while the next runs; but not while a partition
	// at the head has events due. A backlog's records lag the clock by
	// their Kafka timestamps; a busy partition whose fresh records a fetch
	// left waiting is at the head, and its events wait max_hold, not for a
	// catch-up batch (found by a review: they could wait for as long as
	// another partition worked off a backlog). Should its records come
	// faster than they run, they soon lag, and it runs whole batches. A
	// backlog's partition whose fetch happened to leave less than a batch
	// waiting is no head either, until it has not waited for
	// catchUpBehind: taken for one, it made every partition's events run
	// in small batches, which wrote 1.7 times the Redis keys and drained
	// at half the rate (BENCHMARKS.md, session 16).
	due, held, waiting, head := 0, 0, false, false
	for _, lp := range d.sorted() {
		n := lp.pipe.ReadyUpTo(upTo)
		due += n
		held += lp.pipe.Ready() + lp.pipe.Held()
		switch {
		case lp.holdsBack(now, d.maxHold):
			waiting = true
		case n > 0 && (!lp.lagging || now.Sub(lp.lastWaiting) >= catchUpBehind):
			head = true
		}
	}
	if held > d.alignBudget() {
		upTo = farFuture // what is ready runs; the Sequencers keep their order
		due = held
	}
	whole := waiting && !head && !final
	if due == 0 || whole && due < d.alignBatch() {
		return nil
	}
	// A catch-up batch at a time, merged straight from the partitions'
	// ready events: copied into a whole batch first, and held up to the
	// budget, a backlog's events took three times catch_up_events of
	// memory (found by a review).
	for {
		ran, err := d.runMerged(ctx, upTo, whole)
		if err != nil || ran == 0 || whole {
			for _, lp := range d.parts {
				d.count(lp)
			}
			if !waiting && cap(d.merged) > 4*detector.DefaultBatchSize {
				d.merged = nil // the backlog is over: its batch's memory goes
			}
			return err
		}
	}
}

// runMerged runs one batch, at most alignBatch, of the partitions' ready
// events up to upTo, merged by time (ties to the lower partition); with
// whole, only a full one. It reports how many it ran.
func (d *liveDetector) runMerged(ctx context.Context, upTo time.Time, whole bool) (int, error) {
	parts := d.sorted()
	d.heads, d.runsOf = d.heads[:0], d.runsOf[:0]
	total := 0
	for _, lp := range parts {
		r := lp.pipe.ReadyPrefix(upTo)
		d.runsOf = append(d.runsOf, r)
		d.heads = append(d.heads, 0)
		total += len(r)
	}
	size := d.alignBatch()
	limit := min(total, size)
	if limit == 0 || whole && limit < size {
		return 0, nil
	}
	d.merged = d.merged[:0]
	for len(d.merged) < limit {
		best := -1
		for r, at := range d.heads {
			if at < len(d.runsOf[r]) && (best < 0 || d.runsOf[r][at].Time.Before(d.runsOf[best][d.heads[best]].Time)) {
				best = r
			}
		}
		d.merged = append(d.merged, d.runsOf[best][d.heads[best]])
		d.heads[best]++
	}
	for r, lp := range parts {
		lp.pipe.Consume(d.heads[r])
	}
	clear(d.runsOf)
	p := d.togetherPipeline()
	p.SetBatchSize(size)
	ran, err := p.ProcessSome(ctx, d.merged)
	// What an error left goes back: a partition whose Handle did not
	// fail keeps bringing records, which must not run, and be marked
	// applied, ahead of these (found by a review: the next owner then
	// skipped them as applied).
	d.putBack(d.merged[ran:])
	if n := p.Conflicts(); n > d.togetherConflict {
		d.metrics.conflicts.Add(float64(n - d.togetherConflict))
		d.togetherConflict = n
	}
	clear(d.merged)
	d.merged = d.merged[:0]
	if err != nil {
		return 0, err
	}
	return ran, nil
}

// holdsBack reports whether the partition works off a backlog that holds
// the merge back: its records lag the clock and more of them wait in
// Kafka, and it still brings them. Records that lag for good with none
// waiting (a shipper stamping records with the log line's time), or a
// busy partition whose fresh records a fetch round leaves waiting, held
// every other partition's events at the head for a minute or more
// (found by a review).
func (lp *livePartition) holdsBack(now time.Time, maxHold time.Duration) bool {
	return lp.lagging && lp.waiting && lp.catchingUp(now, maxHold)
}

// runEarly runs at once, out of order, the events of every partition
// whose time lies past the ceiling (a clock ahead; see Pipeline.Hold), in
// the Handle that brought them. The engine knows them as early
// (enrich.Event.Early) and does not mark them applied
// (detector/reapply.go), so the older events of their account that the
// Sequencer still holds are not skipped as applied when they run.
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
	d.handBack(d.early[ran:], (*detector.Pipeline).PutBackEarly)
	clear(d.early)
	d.early = d.early[:0]
	return err
}

// putBack returns events align took and did not run to the front of
// their partitions' ready events; each partition's part is, in order,
// the end of what was taken from it.
func (d *liveDetector) putBack(events []enrich.Event) {
	d.handBack(events, (*detector.Pipeline).PutBack)
}

// handBack gives each partition's Pipeline its share of events, in order.
func (d *liveDetector) handBack(events []enrich.Event, put func(*detector.Pipeline, []enrich.Event)) {
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
		put(lp.pipe, d.tail)
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
