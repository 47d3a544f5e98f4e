package main

import (
	"time"

	"go.uber.org/zap"

	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// An operator who restarts atod after an outage wants to know that it is
// working off a backlog, how far behind it is and when it has caught up:
// one line once partitions have been behind (records more than
// backlogShownAfter old, more waiting in Kafka) for backlogSettle, a
// progress line every backlogProgressEvery while they are, and one once
// none has been for backlogSettle. The settling keeps what is not a
// backlog quiet: a shipper that stamps records with the log line's time
// and flushes a burst now and then (the rest of one fetch counts as
// waiting), a pause, a slow write (found by a review: a line each per
// fetch).
const (
	backlogShownAfter    = time.Minute
	backlogSettle        = catchUpBehind
	backlogProgressEvery = 30 * time.Second
)

// backlogProgress is what the lines say, kept across the partitions.
type backlogProgress struct {
	behindSince time.Time // since when some partition is behind; zero: none is
	clearSince  time.Time // since when none is, while shown
	shown       bool      // the backlog was announced
	began       time.Time // when the announced backlog began
	lastLine    time.Time
	events      int64 // read since it began
}

// noteProgress records a batch of lp's; checkProgress says what changed.
func (d *liveDetector) noteProgress(lp *livePartition, b ingestkafka.Batch, now time.Time) {
	lp.behind, lp.age = b.Behind, 0
	if !b.Newest.IsZero() {
		lp.age = max(now.Sub(b.Newest), 0)
	}
	d.progress.events += int64(len(b.Events))
	d.checkProgress(now)
}

// checkProgress runs at every Handle and Tick: a partition that went
// quiet while behind stops counting once it is no longer catching up
// (found by a review: its last batch's figures kept a backlog announced
// for ever).
func (d *liveDetector) checkProgress(now time.Time) {
	bp := &d.progress
	if !d.anyBehind(now) {
		bp.behindSince = time.Time{}
		if !bp.shown {
			bp.events = 0
			return
		}
		if bp.clearSince.IsZero() {
			bp.clearSince = now
		}
		if now.Sub(bp.clearSince) >= backlogSettle {
			d.log.Info("caught up", d.progressFields(bp.clearSince)...)
			*bp = backlogProgress{}
		}
		return
	}
	bp.clearSince = time.Time{}
	if bp.behindSince.IsZero() {
		bp.behindSince = now
		if !bp.shown {
			bp.events = 0
		}
	}
	switch {
	case !bp.shown && now.Sub(bp.behindSince) >= backlogSettle:
		bp.shown, bp.began, bp.lastLine = true, bp.behindSince, now
		d.log.Info("working off a backlog", d.backlogFields(now)...)
	case bp.shown && now.Sub(bp.lastLine) >= backlogProgressEvery:
		bp.lastLine = now
		d.log.Info("backlog progress", d.backlogFields(now)...)
	}
}

// endProgress closes an announced backlog whose partitions this instance
// gives up (a rebalance, a stop): its owner goes on with it.
func (d *liveDetector) endProgress(now time.Time) {
	if d.progress.shown {
		d.log.Info("backlog handed on: partitions revoked", d.progressFields(now)...)
	}
	d.progress = backlogProgress{}
}

// behindNow reports whether the partition works off a backlog worth a
// line: records more than backlogShownAfter old, more waiting, and still
// coming.
func (lp *livePartition) behindNow(now time.Time, maxHold time.Duration) bool {
	return lp.age > backlogShownAfter && lp.holdsBack(now, maxHold)
}

func (d *liveDetector) anyBehind(now time.Time) bool {
	for _, p := range d.parts {
		if p.behindNow(now, d.maxHold) {
			return true
		}
	}
	return false
}

// backlogFields sums up the partitions for a line: how many work off a
// backlog and the age of the records they read last (the oldest), the
// records still waiting in all, and what progressFields says.
func (d *liveDetector) backlogFields(now time.Time) []zap.Field {
	behind, waiting, oldest := 0, int64(0), time.Duration(0)
	for _, p := range d.parts {
		if p.behindNow(now, d.maxHold) {
			behind++
			oldest = max(oldest, p.age)
			waiting += p.behind
		}
	}
	return append([]zap.Field{zap.Int("partitions_behind", behind), zap.Duration("records_age", oldest.Round(time.Second)),
		zap.Int64("records_waiting", waiting)}, d.progressFields(now)...)
}

// progressFields are how long the backlog has lasted up to end, the
// events read meanwhile and their rate.
func (d *liveDetector) progressFields(end time.Time) []zap.Field {
	bp := &d.progress
	began := bp.began
	if !bp.shown {
		began = bp.behindSince
	}
	took := end.Sub(began)
	if began.IsZero() || took < time.Second {
		return []zap.Field{zap.Int64("events_read", bp.events)}
	}
	return []zap.Field{zap.Duration("took", took.Round(time.Second)), zap.Int64("events_read", bp.events),
		zap.Int64("events_per_second", int64(float64(bp.events)/took.Seconds()))}
}
