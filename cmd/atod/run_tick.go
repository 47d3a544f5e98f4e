package main

import (
	"context"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/enrich"
)

// At steady traffic each tick (max_hold/4) releases a few events of every
// partition. Run partition by partition, each of those small batches paid
// its own Redis load and compare-and-set, its own round trips, and its own
// decoding and encoding of the states the partitions share: the tenant's
// pseudo-account and the busy addresses, such as an attacker's with
// hundreds of accounts. So what the partitions release runs as one batch
// of a Pipeline of its own over the same Engine ("together"), merged by
// time: at each tick, and while a backlog is worked off, whenever all
// partitions have passed a catch-up batch's worth (align, run_align.go).
// An account's events run in order: all of them come from its
// partition's Sequencer. Each partition's alerts still go to its own
// outbox (detector.Alert.Pos says whose they are), and its events are
// done as before.

// togetherPipeline returns the Pipeline that runs what several partitions
// released, made on first use. Its hooks do per partition what each
// partition's own Pipeline does for itself.
func (d *liveDetector) togetherPipeline() *detector.Pipeline {
	if d.together != nil {
		return d.together
	}
	p := detector.NewPipeline(d.eng, func(_ context.Context, a detector.Alert) error {
		// A partition revoked meanwhile has the alert in its outbox,
		// which its next owner delivers.
		if lp := d.parts[a.Pos.Partition]; lp != nil {
			d.emitted(lp, a)
		}
		return nil
	})
	p.BeforeSave(func(ctx context.Context, as []detector.Alert) error {
		for _, lp := range d.parts {
			var mine []detector.Alert
			for _, a := range as {
				if a.Pos.Partition == lp.id {
					mine = append(mine, a)
				}
			}
			// An outbox that holds alerts is staged again even with
			// none of these: a rerun's alerts replace the first
			// attempt's.
			if err := d.stage(ctx, lp, mine); err != nil {
				return err
			}
		}
		return nil
	})
	p.OnProcessed(func(_ context.Context, events []enrich.Event) error {
		// The batch is merged by time, so each partition's events
		// are spread over it: one pass gathers each partition's
		// share, then each is told of its own.
		for _, lp := range d.parts {
			lp.mine = lp.mine[:0]
		}
		for i := range events {
			if lp := d.parts[events[i].Pos.Partition]; lp != nil {
				lp.mine = append(lp.mine, events[i].Pos)
			}
		}
		for _, lp := range d.parts {
			if len(lp.mine) > 0 || len(lp.alerts) > 0 {
				d.processedAt(lp, lp.mine)
			}
		}
		d.metrics.processed.Add(float64(len(events)))
		d.metrics.batch.Observe(float64(len(events)))
		return nil
	})
	d.together = p
	return p
}

// togetherSaving reports whether the batch of several partitions holds
// events whose state may not be saved: their alerts are staged, so no
// outbox may be cleared.
func (d *liveDetector) togetherSaving() bool {
	return d.together != nil && (d.together.Unsaved() || d.together.Saving())
}
