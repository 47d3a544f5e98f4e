package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest"
)

// Delivering alerts. A batch's alerts are staged in the outbox (Redis)
// before its state is saved, so once saved they are durable; publishing
// them to the alerts topic is a round trip to the brokers, and waiting for
// it on the one goroutine that detects paced live mode when the brokers
// are far (BenchmarkRunSlowProduce: 96,700 – 105,700 events/s with produce
// answers on time, 66,400 – 73,900 with them 100 ms late). So a flush with
// alerts hands them to a delivery that travels while detection goes on:
// one at a time, its events done only when it has landed. While it
// travels its alerts stay staged in the outbox beside newer ones
// (livePartition.publishing), and no outbox is cleared under it.

// delivery is the alerts of some flushed batches on their way to the
// hooks' queue and the alerts topic.
type delivery struct {
	parts  []*livePartition
	fresh  []detector.Alert // not yet published, as the Dedup said
	undone [][]ingest.Position
	done   chan error
	// cancel ends the delivery early. It does not end with the call that
	// started it (a generation's end cancels that): a stop waits for it
	// up to its own bound (awaitDelivery), Assign cancels what is left.
	cancel context.CancelFunc
}

// flush delivers the alerts of the batches processed since the last flush,
// all partitions' in one publish, and reports their events done once it
// has landed. Handle, Tick and Revoke end with it. An error leaves the
// events undone, to be read again, and the alerts in the outbox.
func (d *liveDetector) flush(ctx context.Context) error {
	if err := d.reapDelivery(ctx, false); err != nil {
		return err
	}
	if len(d.unflushed) == 0 {
		return nil
	}
	var all []detector.Alert
	for _, lp := range d.unflushed {
		all = append(all, lp.undelivered...)
	}
	fresh := d.dedup.Fresh(all)
	if len(fresh) > 0 {
		if d.delivering == nil {
			d.startDelivery(ctx, fresh)
		}
		return nil // a later flush takes these, once the one in flight has landed
	}
	// Nothing to publish: the events are done now, and the outboxes that
	// hold only published alerts are cleared.
	for _, lp := range d.unflushed {
		d.done = append(d.done, lp.undone...)
		clear(lp.undelivered)
		lp.undelivered, lp.undone = lp.undelivered[:0], lp.undone[:0]
	}
	err := d.clearOutboxes(ctx, d.unflushed)
	clear(d.unflushed)
	d.unflushed = d.unflushed[:0]
	return err
}

// startDelivery takes the unflushed partitions' alerts and events into a
// delivery and sends it.
func (d *liveDetector) startDelivery(ctx context.Context, fresh []detector.Alert) {
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	del := &delivery{fresh: fresh, done: make(chan error, 1), cancel: cancel}
	for _, lp := range d.unflushed {
		lp.publishing = append(lp.publishing[:0], lp.undelivered...)
		clear(lp.undelivered)
		lp.undelivered = lp.undelivered[:0]
		del.parts = append(del.parts, lp)
		del.undone = append(del.undone, lp.undone)
		lp.undone = nil
	}
	clear(d.unflushed)
	d.unflushed = d.unflushed[:0]
	d.delivering = del
	go func() { del.done <- d.send(sctx, fresh) }()
}

// send hands the alerts to the hooks' queue, then publishes them. It runs
// beside detection and touches only what is safe there: the queue, the
// publisher and the metrics.
func (d *liveDetector) send(ctx context.Context, fresh []detector.Alert) error {
	// Hooks first: their queue is idempotent by alert id, so a crash
	// between the two hands the alert over again rather than never.
	if d.resp != nil {
		for i := range fresh {
			if _, err := d.resp.Notify(ctx, fresh[i]); err != nil {
				d.metrics.errors.WithLabelValues("hooks_queue").Inc()
				return fmt.Errorf("handing alert %s to the hooks' queue: %w", fresh[i].ID, err)
			}
		}
	}
	if err := d.pub.Publish(ctx, fresh); err != nil {
		d.metrics.errors.WithLabelValues("kafka_publish").Inc()
		return err
	}
	return nil
}

// reapDelivery finishes the delivery in flight if it has landed, or, with
// wait, once it has: its events are done, and the outboxes of its
// partitions are cleared unless they hold newer alerts. A delivery that
// failed gives its alerts and events back to its partitions, for the
// next flush.
func (d *liveDetector) reapDelivery(ctx context.Context, wait bool) error {
	del := d.delivering
	if del == nil {
		return nil
	}
	var err error
	if wait {
		select {
		case err = <-del.done:
		case <-ctx.Done():
			// Out of time: what travels is given back, and stays in the
			// outbox for whoever reads its records again.
			del.cancel()
			err = errors.Join(ctx.Err(), <-del.done)
		}
	} else {
		select {
		case err = <-del.done:
		default:
			return nil
		}
	}
	d.delivering = nil
	del.cancel()
	if err != nil {
		for i, lp := range del.parts {
			lp.undelivered = append(lp.publishing, lp.undelivered...)
			lp.undone = append(del.undone[i], lp.undone...)
			lp.publishing = nil
			d.markUnflushed(lp)
		}
		return err
	}
	d.delivered(del.fresh)
	for i, lp := range del.parts {
		d.done = append(d.done, del.undone[i]...)
		clear(lp.publishing)
		lp.publishing = lp.publishing[:0]
	}
	return d.clearOutboxes(ctx, del.parts)
}

// delivered notes alerts that landed: the Dedup remembers them, the
// metrics count them.
func (d *liveDetector) delivered(fresh []detector.Alert) {
	d.dedup.Remember(fresh...)
	for i := range fresh {
		a := &fresh[i]
		d.metrics.alerts.WithLabelValues(a.Rule, a.Action).Inc()
		if a.DetectedAt != nil {
			d.metrics.alertDelay.Observe(max(a.DetectedAt.Sub(a.Time), 0).Seconds())
		}
	}
}

// deliverNow publishes what the Dedup has not seen of as and waits, then
// empties lp's outbox: Assign's delivery of what a previous owner left.
func (d *liveDetector) deliverNow(ctx context.Context, lp *livePartition, as []detector.Alert) error {
	fresh := d.dedup.Fresh(as)
	if err := d.send(ctx, fresh); err != nil {
		return err
	}
	d.delivered(fresh)
	return d.clearOutboxes(ctx, []*livePartition{lp})
}

// awaitDelivery waits for the delivery in flight and for what the flushes
// left waiting behind it: when it returns, every processed batch's alerts
// are published, or an error says why not.
func (d *liveDetector) awaitDelivery(ctx context.Context) error {
	for {
		if err := d.reapDelivery(ctx, true); err != nil {
			return err
		}
		if len(d.unflushed) == 0 {
			return nil
		}
		// Starts the next delivery, or, with nothing to publish, takes
		// the rest at once.
		if err := d.flush(ctx); err != nil {
			return err
		}
	}
}

// abandonDelivery forgets the delivery in flight, once it has ended, when
// a generation ends: its alerts are in the outbox and its records are
// read again.
func (d *liveDetector) abandonDelivery() {
	if del := d.delivering; del != nil {
		del.cancel()
		<-del.done
		for _, lp := range del.parts {
			lp.publishing = nil
		}
		d.delivering = nil
	}
}

// markUnflushed adds lp to the partitions a flush delivers, once.
func (d *liveDetector) markUnflushed(lp *livePartition) {
	for _, u := range d.unflushed {
		if u == lp {
			return
		}
	}
	d.unflushed = append(d.unflushed, lp)
}

// clearOutboxes empties the outboxes of parts that hold only published
// alerts.
func (d *liveDetector) clearOutboxes(ctx context.Context, parts []*livePartition) error {
	for _, lp := range parts {
		if !lp.staged || d.togetherSaving() || len(lp.publishing) > 0 || len(lp.undelivered) > 0 {
			// The outbox also holds alerts not yet published, or of a
			// batch whose state may have been (or is being) saved: they
			// stay.
			continue
		}
		if err := d.outbox.Clear(ctx, lp.outKey); err != nil {
			d.metrics.errors.WithLabelValues("outbox").Inc()
			return err
		}
		lp.staged = false
	}
	return nil
}
