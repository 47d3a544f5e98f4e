package main

import (
	"time"

	"go.uber.org/zap"

	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// An operator who restarts atod after an outage wants to know that it is
// working off a backlog, how far behind it is and when it has caught up:
// one line when records lag by more than backlogShownAfter, a progress
// line every backlogProgressEvery while they do, and one when no
// partition works off a backlog any more (records that lag with none
// waiting are a shipper's timestamps, not a backlog). Lags shorter than that (a collector's
// pause, a slow write) change how batches run (catchUpBehind) but are
// not worth a line each.
const (
	backlogShownAfter    = time.Minute
	backlogProgressEvery = 30 * time.Second
)

// backlogProgress is what the lines say, kept across the partitions.
type backlogProgress struct {
	since  time.Time // zero: no backlog being shown
	shown  time.Time // of the last line
	events int64     // read since the backlog began
}

// noteProgress records a batch of lp's and says what changed.
func (d *liveDetector) noteProgress(lp *livePartition, b ingestkafka.Batch, now time.Time) {
	lp.behind, lp.age = b.Behind, 0
	if !b.Newest.IsZero() {
		lp.age = max(now.Sub(b.Newest), 0)
	}
	bp := &d.progress
	if bp.since.IsZero() {
		if lp.age > backlogShownAfter && lp.waiting {
			bp.since, bp.shown, bp.events = now, now, int64(len(b.Events))
			d.log.Info("working off a backlog", d.backlogFields(now)...)
		}
		return
	}
	bp.events += int64(len(b.Events))
	for _, p := range d.parts {
		if p.lagging && p.waiting {
			if now.Sub(bp.shown) >= backlogProgressEvery {
				bp.shown = now
				d.log.Info("backlog progress", d.backlogFields(now)...)
			}
			return
		}
	}
	d.log.Info("caught up", zap.Duration("took", now.Sub(bp.since).Round(time.Second)), zap.Int64("events", bp.events))
	bp.since = time.Time{}
}

// backlogFields sums up the partitions for a line: how many work off a
// backlog and the age of the records they read last (the oldest), the
// records still waiting in all, and the rate since the backlog began.
func (d *liveDetector) backlogFields(now time.Time) []zap.Field {
	behind, waiting, oldest := 0, int64(0), time.Duration(0)
	for _, p := range d.parts {
		if p.lagging && p.waiting {
			behind++
			oldest = max(oldest, p.age)
		}
		waiting += p.behind
	}
	fs := []zap.Field{zap.Int("partitions_behind", behind), zap.Duration("records_age", oldest.Round(time.Second)),
		zap.Int64("records_waiting", waiting)}
	if took := now.Sub(d.progress.since); took >= time.Second {
		fs = append(fs, zap.Int64("events_read", d.progress.events), zap.Int64("events_per_second", int64(float64(d.progress.events)/took.Seconds())))
	}
	return fs
}
