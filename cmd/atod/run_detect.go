package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// publisher is what live mode needs of the alerts topic.
type publisher interface {
	// Publish returns once the alerts are durably written (retrying until
	// ctx ends).
	Publish(ctx context.Context, as []detector.Alert) error
	// Recent returns the alerts written since.
	Recent(ctx context.Context, since time.Time) ([]detector.Alert, error)
}

// liveDetector is the Handler that atod run gives the Kafka consumer.
// Each partition gets a Pipeline of its own, so that its Sequencer orders
// that partition's events by event time (an account's events are all in
// one partition when producers key by account); what they release runs
// merged by time as one batch of another Pipeline (run_align.go). All
// share one Engine and store, and are driven from the consumer's single
// goroutine.
//
// A batch's alerts are staged in the outbox before the detector saves its
// state, published, then cleared; the batch's events are reported done
// only after that, so an offset is never committed past an alert that is
// not on the alerts topic or in the outbox.
type liveDetector struct {
	eng      *detector.Engine
	enr      *enrich.Enricher
	pub      publisher
	resp     *response // hooks and sinks; nil when none are configured
	outbox   alerts.Outbox
	dedup    *alerts.Delivered
	keyBase  string // outbox key prefix: group and topic
	maxHold  time.Duration
	batch    int           // kafka.batch_events; 0: the Pipeline's default
	catchUp  int           // kafka.catch_up_events; 0: defaultCatchUpEvents
	lateness time.Duration // detector.lateness, for the watermark metric
	stateTTL time.Duration // Redis keys' shorter lifetime; 0: state in memory
	log      *zap.Logger
	metrics  *runMetrics
	now      func() time.Time

	parts map[int32]*livePartition
	order []*livePartition  // parts by number; see sorted
	done  []ingest.Position // of the call in progress
	// unflushed are the partitions with batches processed since the last
	// flush: their alerts wait to be published, their events to be done.
	unflushed []*livePartition

	reappliedSum int64 // eng.Reapplied() already counted
	duplicateSum int64 // eng.Duplicates() already counted

	delivering *delivery // alerts on their way to the topic; see run_deliver.go

	// together runs what the partitions release, merged by time, as one
	// batch (run_align.go, run_tick.go).
	together         *detector.Pipeline
	merged           []enrich.Event   // the batch, merged by time
	tail             []enrich.Event   // scratch of putBack
	heads            []int            // scratch of runMerged
	runsOf           [][]enrich.Event // scratch of runMerged
	early            []enrich.Event   // scratch of runEarly
	togetherConflict int64            // together.Conflicts() already counted

	progress backlogProgress // what the backlog's log lines say; see run_progress.go
}

// livePartition is one partition's pipeline and hold clock.
type livePartition struct {
	id     int32
	label  string // the partition as a metric label
	pipe   *detector.Pipeline
	hold   holdClock
	alerts []detector.Alert // emitted by the batch in progress
	// undelivered are the alerts of processed batches, in the outbox
	// until flush publishes them; undone those batches' events.
	undelivered []detector.Alert
	undone      []ingest.Position
	// mine gathers the partition's events of a batch that ran several
	// partitions' events (see run_tick.go).
	mine []ingest.Position
	// publishing are the alerts of the delivery in flight, staged in the
	// outbox beside newer ones until it lands.
	publishing  []detector.Alert
	staged      bool // the outbox holds alerts of this partition
	outKey      string
	lateSum     int64 // pipe.Late() already counted
	earlySum    int64 // pipe.Early() already counted
	conflictSum int64 // pipe.Conflicts() already counted
	// lagging is set while the partition works off a backlog: its last
	// batch's records lagged the clock by their Kafka timestamps. Fresh
	// records with more waiting are a busy partition at the head, held
	// max_hold; counted as a backlog, they waited for detector.lateness
	// of event time to pass, a minute (found by a review). waiting while
	// more than an ordinary batch of records waited in Kafka behind its
	// last batch; lastArrival is when that batch came.
	lagging     bool
	waiting     bool
	behind      int64         // records waiting in Kafka after its last batch
	age         time.Duration // of its last batch's newest record
	lastWaiting time.Time     // when a batch last left more than a batch waiting
	lastArrival time.Time
	// assigned is when the partition was given to this instance (see
	// assignWait); outageSince, see noteOutage.
	assigned    time.Time
	outageSince time.Time
}

// dedupWindow is how far before a partition's last commit the alerts
// topic is read back when the partition is taken over, for clocks that
// disagree between instances; and how far back from now when the group
// never committed.
const (
	clockMargin      = time.Minute
	noCommitLookback = time.Hour
	dedupRemembered  = 1 << 16
)

var _ ingestkafka.Handler = (*liveDetector)(nil)

func (d *liveDetector) partition(p int32) *livePartition {
	lp := d.parts[p]
	if lp != nil {
		return lp
	}
	lp = &livePartition{id: p, label: strconv.Itoa(int(p)), outKey: d.keyBase + "/" + strconv.Itoa(int(p)), assigned: d.now()}
	// The partition's Pipeline only orders its events (Hold): the rules
	// run them through the one that merges all partitions (run_align.go),
	// so it needs neither alerts nor live mode's hooks.
	lp.pipe = detector.NewPipeline(d.eng, nil)
	// As in replay: one event far ahead (a wrong clock, yet behind the
	// ceiling of a backlog's wall clock) waits for a second to confirm its
	// time instead of making every event after it due at once.
	lp.pipe.ConfirmProgress()
	d.parts[p] = lp
	return lp
}

// Assign implements ingestkafka.Handler: it learns which alerts the topic
// already holds from the time the partitions' last commits say work
// resumed, and delivers what the previous owners left in the outbox.
func (d *liveDetector) Assign(ctx context.Context, parts []ingestkafka.Assignment) error {
	// What an ended generation processed but could not deliver is in the
	// outbox, and its records are read again: none of it is done.
	d.abandonDelivery()
	for _, lp := range d.unflushed {
		lp.undelivered, lp.undone = nil, nil
	}
	d.unflushed = d.unflushed[:0]
	d.eng.Abandon()
	if d.together != nil {
		// Whatever an ended generation's tick could not save is read again
		// by the partitions' owners now (see Revoke).
		d.together.DropUnsaved()
	}
	d.endProgress(d.now()) // the new partitions say anew where they stand
	for p, lp := range d.parts {
		// Left by a generation whose Revoke did not run (its last Handle
		// failed): their held events would run, and stage alerts into
		// outboxes, for partitions another instance may own now. Their
		// records are read again from the last commit.
		d.metrics.forget(lp.label)
		delete(d.parts, p)
	}
	if len(parts) == 0 {
		return nil
	}
	since := d.now().Add(-noCommitLookback)
	pending := map[int32][]detector.Alert{}
	for _, a := range parts {
		lp := d.partition(a.Partition)
		d.noteOutage(lp, a)
		if !a.Since.IsZero() && a.Since.Before(since) {
			since = a.Since
		}
		as, err := d.outbox.Pending(ctx, lp.outKey)
		if err != nil {
			return err
		}
		for _, al := range as {
			if al.DetectedAt != nil && al.DetectedAt.Before(since) {
				since = *al.DetectedAt
			}
		}
		pending[a.Partition], lp.staged = as, len(as) > 0
	}
	since = since.Add(-clockMargin)
	published, err := d.pub.Recent(ctx, since)
	if err != nil {
		return fmt.Errorf("reading back recent alerts: %w", err)
	}
	d.dedup.Remember(published...)
	recovered := 0
	for _, a := range parts {
		lp := d.parts[a.Partition]
		recovered += len(d.dedup.Fresh(pending[a.Partition]))
		if err := d.deliverNow(ctx, lp, pending[a.Partition]); err != nil {
			return err
		}
	}
	d.log.Info("took over partitions", zap.Int("partitions", len(parts)), zap.Time("alerts_read_back_since", since),
		zap.Int("alerts_read_back", len(published)), zap.Int("alerts_recovered_from_outbox", recovered))
	return nil
}

// noteOutage remembers, for a partition taken over, when the records
// after its last commit began to wait, if that is longer ago than Redis
// keeps state; warnOutage then speaks if the first records read are a
// backlog. The rules run on event time, so those records may still need
// state that Redis, counting wall-clock time, has dropped meanwhile (an
// attack straddling a weekend's outage goes unseen by the address rules).
// A partition that was merely quiet that long brings fresh records and
// stays silent, as does a restart within the time.
func (d *liveDetector) noteOutage(lp *livePartition, a ingestkafka.Assignment) {
	if d.stateTTL > 0 && !a.Since.IsZero() && d.now().Sub(a.Since) > d.stateTTL {
		lp.outageSince = a.Since
	}
}

// warnOutage is noteOutage's second half, at the partition's first batch.
func (d *liveDetector) warnOutage(lp *livePartition, b ingestkafka.Batch, now time.Time) {
	if lp.outageSince.IsZero() {
		return
	}
	if lagsClock(b, now) {
		d.log.Warn("records waited longer than redis keeps detector state: state from before has expired, and rules over windows that straddle the gap may miss what they would have seen; a larger redis.addr_ttl and redis.user_ttl cover longer outages",
			zap.Int32("partition", lp.id), zap.Duration("waited", now.Sub(lp.outageSince).Round(time.Second)), zap.Duration("state_ttl", d.stateTTL))
	}
	lp.outageSince = time.Time{}
}

// Handle implements ingestkafka.Handler.
func (d *liveDetector) Handle(ctx context.Context, b ingestkafka.Batch, done []ingest.Position) ([]ingest.Position, error) {
	d.done = done
	if err := d.finishTogether(ctx); err != nil {
		return d.done, err
	}
	lp := d.partition(b.Partition)
	now := d.now()
	lp.waiting = b.Behind >= int64(d.batchSize())
	lp.lagging = lagsClock(b, now)
	if lp.waiting {
		lp.lastWaiting = now
	}
	d.warnOutage(lp, b, now)
	newest := time.Time{}
	ceiling := now.Add(earlyAhead)
	lp.pipe.SetCeiling(ceiling)
	for i := range b.Events {
		ev := d.enr.Enrich(b.Events[i])
		if ev.Time.After(newest) && !ev.Time.After(ceiling) {
			newest = ev.Time
		}
		lp.pipe.Hold(ev)
	}
	err := d.runEarly(ctx)
	now = d.now()
	lp.hold.arrived(now, newest)
	lp.lastArrival = now
	d.noteProgress(lp, b, now)
	switch {
	case err != nil:
	case lp.lagging:
		// What all partitions have passed runs, in whole catch-up
		// batches while more records wait in Kafka (see align). A
		// partition behind by its timestamps alone runs what is due at
		// once: they may lag for good (a shipper stamping records with
		// the log line's time), and its alerts would wait for a
		// catch-up batch to fill.
		err = d.align(ctx, now, false)
	case d.maxHold == 0:
		lp.pipe.AdvanceHeld(lp.hold.all())
		err = d.align(ctx, now, false)
	default:
		// At the head of the stream, Tick releases what waited max_hold.
	}
	d.count(lp)
	// With more records waiting, the next call comes at once and runs its
	// batch while this one's state travels: waiting for that write here
	// kept Redis and the rules from ever overlapping while a backlog is
	// worked off (a third of the detector's time, BENCHMARKS.md).
	return d.done, errors.Join(err, d.settle(ctx, !lp.waiting))
}

// lagsClock reports whether a batch's records are older than
// catchUpBehind by their Kafka timestamps: the partition works off a
// backlog, and event time, not max_hold, paces what is released.
func lagsClock(b ingestkafka.Batch, now time.Time) bool {
	return !b.Newest.IsZero() && now.Sub(b.Newest) > catchUpBehind
}

// defaultCatchUpEvents is the default of kafka.catch_up_events: the
// merged batch of all the partitions an instance holds while they work
// off a backlog (alignBatch), and the most events the engine gets at once
// of what is ready. Latency no longer counts there, and with Redis state
// each batch loads and saves each account and address it touches once,
// so a batch should be large beside the accounts it touches; shared,
// its memory stays bounded however many partitions an instance is given
// (about 0.75 KB of live heap an event). Before the merge by event time,
// BenchmarkRunThroughput, 3,000,000 events over 100,000 accounts and six
// partitions, batches per partition of 43,690: 138,000 – 157,000
// events/s; 87,381 (a sixth of this default): 188,000 – 200,000;
// 131,072: 201,000 – 247,000 (BENCHMARKS.md, session 9). Merged batches
// of a partition's share wrote three times the Redis keys (session 16);
// with the broker apart atod's heap grows by about 0.6 GB at this default
// (session 17).
const defaultCatchUpEvents = 1 << 19

// batchSize is kafka.batch_events (the Pipeline's default when unset):
// a partition whose fetch leaves more than that waiting in Kafka has
// records waiting (livePartition.waiting).
func (d *liveDetector) batchSize() int {
	if d.batch <= 0 {
		return detector.DefaultBatchSize
	}
	return d.batch
}

// Tick implements ingestkafka.Handler: it releases what has been held
// for max_hold, unless the partition is working off a backlog and still
// bringing events (then event time and full batches pace the release; a
// backlog that stopped is an idle partition, and its events are released).
func (d *liveDetector) Tick(ctx context.Context, now time.Time, done []ingest.Position) ([]ingest.Position, error) {
	d.done = done
	if err := d.finishTogether(ctx); err != nil {
		return d.done, errors.Join(err, d.settle(ctx, true))
	}
	// While a partition still catches up its next batch comes soon, and
	// settles the write in flight then.
	catching := false
	for _, lp := range d.sorted() {
		if lp.catchingUp(now, d.maxHold) {
			catching = true
			lp.hold.skip(now, d.maxHold)
		} else if wm, ok := lp.hold.due(now, d.maxHold); ok {
			lp.pipe.AdvanceHeld(wm)
		} else if lp.pipe.Held() > 0 && now.Sub(lp.lastArrival) >= d.maxHold {
			// A backlog that stopped (its marks were skipped while it
			// caught up): everything it brought has waited max_hold.
			lp.pipe.AdvanceHeld(lp.hold.all())
		}
	}
	d.checkProgress(now)
	// What the partitions released runs as one batch, merged by time
	// (run_align.go).
	if err := d.align(ctx, now, false); err != nil {
		return d.done, errors.Join(err, d.settle(ctx, true))
	}
	return d.done, d.settle(ctx, !catching)
}

// Revoke implements ingestkafka.Handler: it processes the events that are
// due and forgets the partitions. The events the Sequencer still holds
// (within detector.lateness of the partition's newest) are not run: they
// are not reported done, so the next owner, this instance after a restart
// or another, reads them again with the records that follow them in
// Kafka. Run now, they went before records still unread that belong
// earlier (a late MFA denial behind the success it preceded): a stop in
// the middle of a backlog gave other alerts than an uninterrupted run
// (280 fewer of 3,000 in TestStopMidBacklogMatchesReplay). Events already
// run are skipped when read again (their accounts' applied marks).
func (d *liveDetector) Revoke(ctx context.Context, parts []int32, done []ingest.Position) ([]ingest.Position, error) {
	d.done = done
	// A tick's batch of several partitions whose rerun failed keeps its
	// events: they are finished while the partitions are still this
	// instance's, or Revoke fails (and its records are read again).
	err := d.finishTogether(ctx)
	if err == nil {
		// What all partitions have passed runs, and is saved while its
		// partitions are still here to be told; the rest of theirs is
		// read again.
		err = d.align(ctx, d.now(), true)
		err = errors.Join(err, d.settle(ctx, true))
	}
	d.endProgress(d.now())
	for _, p := range parts {
		lp := d.parts[p]
		if lp == nil {
			continue
		}
		d.count(lp)
		delete(d.parts, p)
		d.metrics.forget(lp.label)
	}
	// The partitions' alerts are delivered before they go: nothing of
	// theirs travels on.
	err = errors.Join(err, d.settle(ctx, true))
	return d.done, errors.Join(err, d.awaitDelivery(ctx))
}

// finishTogether runs what a tick's batch of several partitions left
// unsaved (its rerun failed, see detector.Pipeline.Unsaved) before any
// partition's own Pipeline runs a batch. Run after a later batch of the
// same accounts, those events were skipped as already applied (the
// accounts' applied marks had passed them), and the later batch's stage
// had dropped their alerts from the outbox: alerts lost, records
// committed.
func (d *liveDetector) finishTogether(ctx context.Context) error {
	if d.together == nil || !d.together.Unsaved() {
		return nil
	}
	return d.together.Flush(ctx)
}

// catchingUp reports whether a partition is working off a backlog and
// still bringing events: its last batch came less than maxHold ago, or
// more than a batch of records waited in Kafka behind it and it came less
// than catchUpBehind ago. The second matters because the gaps between a
// partition's batches are set by how long the one goroutine that detects
// takes over the other partitions' batches, not by the partition:
// releasing its partial batch each time a gap passed max_hold made a
// drained backlog cost a Redis load and save per account per few thousand
// events. catchUpBehind bounds the hold when the records said to be
// waiting do not come (a broker outage).
func (lp *livePartition) catchingUp(now time.Time, maxHold time.Duration) bool {
	if !lp.lagging {
		return false
	}
	quiet := now.Sub(lp.lastArrival)
	return quiet < maxHold || lp.waiting && quiet < catchUpBehind
}

// settle ends a Handle, Tick or Revoke: it finishes the batch saved
// ahead, which may be another partition's (see detector.SaverAhead: while
// one partition's compare-and-set travels, the next partition's batch
// runs), and then flushes. A batch's events are done only once its state
// is saved and its alerts published. Without wait, a write still
// travelling is left to the next batch, or call, to finish.
func (d *liveDetector) settle(ctx context.Context, wait bool) error {
	if !wait && !d.eng.Saved() {
		return d.flush(ctx)
	}
	if err := d.eng.Settle(ctx); err != nil {
		return errors.Join(err, d.flush(ctx))
	}
	return d.flush(ctx)
}

// count updates the per-partition metrics.
func (d *liveDetector) count(lp *livePartition) {
	if n := d.eng.Reapplied(); n > d.reappliedSum {
		d.metrics.reapplied.Add(float64(n - d.reappliedSum))
		d.reappliedSum = n
	}
	if n := d.eng.Duplicates(); n > d.duplicateSum {
		d.metrics.duplicates.Add(float64(n - d.duplicateSum))
		d.duplicateSum = n
	}
	if late := lp.pipe.Late(); late > lp.lateSum {
		d.metrics.late.Add(float64(late - lp.lateSum))
		lp.lateSum = late
	}
	if early := lp.pipe.Early(); early > lp.earlySum {
		d.metrics.early.Add(float64(early - lp.earlySum))
		lp.earlySum = early
	}
	if n := lp.pipe.Conflicts(); n > lp.conflictSum {
		d.metrics.conflicts.Add(float64(n - lp.conflictSum))
		lp.conflictSum = n
	}
	d.metrics.held.WithLabelValues(lp.label).Set(float64(lp.pipe.Held()))
	wm := lp.hold.newest.Add(-d.lateness)
	if lp.hold.released.After(wm) {
		wm = lp.hold.released
	}
	if !lp.hold.newest.IsZero() {
		d.metrics.watermark.WithLabelValues(lp.label).Set(float64(wm.UnixMilli()) / 1e3)
	}
}
