package main

import (
	"context"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest"
)

// What the hooks of a batch do for each partition whose events it ran,
// whichever Pipeline ran it (the partition's own, or the one that runs
// what a tick releases, run_tick.go): the partition's alerts are staged in
// its outbox before the state is saved, and once the batch is processed
// they wait beside its events for the next flush (run_deliver.go).

// emitted keeps an alert of lp's batch in progress.
func (d *liveDetector) emitted(lp *livePartition, a detector.Alert) {
	at := d.now().UTC()
	a.DetectedAt = &at
	lp.alerts = append(lp.alerts, a)
}

// stage puts as, new alerts of lp, into lp's outbox before the state of
// their batch is saved. The outbox key holds what is not yet published:
// the alerts of the delivery in flight, of earlier batches waiting for a
// flush, and these.
func (d *liveDetector) stage(ctx context.Context, lp *livePartition, as []detector.Alert) error {
	if len(as) == 0 && !lp.staged {
		return nil
	}
	now := d.now().UTC()
	staged := make([]detector.Alert, 0, len(lp.publishing)+len(lp.undelivered)+len(as))
	staged = append(append(staged, lp.publishing...), lp.undelivered...)
	for _, a := range as {
		a.DetectedAt = &now
		staged = append(staged, a)
	}
	if err := d.outbox.Stage(ctx, lp.outKey, staged); err != nil {
		d.metrics.errors.WithLabelValues("outbox").Inc()
		return err
	}
	lp.staged = len(staged) > 0
	return nil
}

// processedAt notes that lp's events at pos of a batch are processed:
// their alerts (emitted) wait for a flush to publish them, the events to
// be done.
func (d *liveDetector) processedAt(lp *livePartition, pos []ingest.Position) {
	d.alertsProcessed(lp)
	lp.undone = append(lp.undone, pos...)
}

func (d *liveDetector) alertsProcessed(lp *livePartition) {
	if len(lp.undone) == 0 && len(lp.undelivered) == 0 {
		d.unflushed = append(d.unflushed, lp)
	}
	lp.undelivered = append(lp.undelivered, lp.alerts...)
	clear(lp.alerts)
	lp.alerts = lp.alerts[:0]
}
