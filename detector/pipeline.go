package detector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/atod-project/atod/enrich"
)

// DefaultBatchSize is how many in-order events the Pipeline hands the engine
// at once: big enough that a remote store's two round trips a batch are
// cheap per event, small enough that alerts leave within moments.
const DefaultBatchSize = 512

// Pipeline puts a Sequencer in front of an Engine and batches what it
// releases. Emit is called for every alert, in order, from the goroutine
// that calls Push, Flush or Process; an error from Emit stops the pipeline
// and is returned. A Pipeline is not safe for concurrent use, but for its
// two halves (see Order).
type Pipeline struct {
	seq       *Sequencer
	eng       *Engine
	emit      func(context.Context, Alert) error
	batchSize int

	ready  []enrich.Event
	early  []enrich.Event // set apart by Hold; see TakeEarly
	alerts []Alert

	live liveHooks // set by live mode only; see pipeline_live.go

	conflicts int64 // batches run again after ErrConflict; see Conflicts

	ahead   SaverAhead     // the store, when it saves ahead; see pipeline_ahead.go
	unsaved []enrich.Event // of a batch sent ahead whose rerun failed; see rerun

	window *window // when the store writes behind; see pipeline_window.go
}

// NewPipeline returns a pipeline over eng that holds events back by the
// engine's configured lateness.
func NewPipeline(eng *Engine, emit func(context.Context, Alert) error) *Pipeline {
	p := &Pipeline{
		seq:       NewSequencer(eng.cfg.Lateness),
		eng:       eng,
		emit:      emit,
		batchSize: DefaultBatchSize,
	}
	if wb, ok := eng.store.(*WriteBehind); ok {
		p.window = &window{store: wb}
	} else if a, ok := eng.store.(SaverAhead); ok && a.SavesAhead() {
		p.ahead = a
	}
	return p
}

// SetBatchSize changes how many events the engine gets at once (at least
// 1). A remote store wants big batches: its cost is per distinct key, and a
// bigger batch holds each account and address once for more events.
func (p *Pipeline) SetBatchSize(n int) { p.batchSize = max(n, 1) }

// BatchSize reports how many events the engine gets at once.
func (p *Pipeline) BatchSize() int { return p.batchSize }

// Push adds one event; it runs the rules once a batch of events is due.
func (p *Pipeline) Push(ctx context.Context, e enrich.Event) error {
	if len(p.ready) == cap(p.ready) && len(p.ready) < p.batchSize {
		// Doubled up to a batch rather than grown by append, whose 1.25x
		// steps allocate about five times a large batch on the way (1.5
		// GB for six partitions' catch-up batches, from a heap profile).
		// Not a whole batch at once: a partition a few events behind
		// would hold a catch-up batch's memory (98 MB at 262,144).
		p.ready = slices.Grow(p.ready, min(max(len(p.ready), 1024), p.batchSize-len(p.ready)))
	}
	var due bool
	if p.ready, due = p.Order(&e, p.ready); due {
		return p.processAtLeast(ctx, p.batchSize)
	}
	return nil
}

// Flush releases and processes every held event: the end of the input.
func (p *Pipeline) Flush(ctx context.Context) error {
	p.ready = p.OrderFlush(p.TakeEarly(p.ready))
	if err := p.process(ctx); err != nil {
		return err
	}
	return p.Settle(ctx)
}

// Order and OrderFlush are the Sequencer's half of Push and Flush, and
// Process the engine's: a caller may run them on two goroutines, so that
// ordering the next events overlaps with running the rules on the last
// ones (replay does, to use two cores). Order touches only the Sequencer
// and Process only the engine; each half is for one goroutine at a time,
// and Late may be read once ordering is over.

// Order adds a copy of *e to the events held back and appends to ready the
// events now due, in order. It reports whether ready holds enough for
// Process: handing over ready each time it does, and the rest after
// OrderFlush, gives the engine the same batches as Push would.
func (p *Pipeline) Order(e *enrich.Event, ready []enrich.Event) ([]enrich.Event, bool) {
	ready = p.seq.push(e, ready)
	return ready, len(ready) >= p.batchSize
}

// OrderFlush appends every held event to ready, in order: the end of the
// input.
func (p *Pipeline) OrderFlush(ready []enrich.Event) []enrich.Event {
	return p.seq.Flush(ready)
}

// Process runs the rules over events released by Order (or gathered from
// other Pipelines by Release), a batch at a time, and emits their alerts. It does not keep events, but the last
// batch's alerts may wait for its state to be saved: call Settle at the
// end of the input.
func (p *Pipeline) Process(ctx context.Context, events []enrich.Event) error {
	_, err := p.processEvents(ctx, events, p.batchSize, 1)
	return err
}

// Late reports how many events arrived later than the lateness allows.
func (p *Pipeline) Late() int64 { return p.seq.Late() }

// SetCeiling sets the Sequencer's ceiling (see Sequencer.SetCeiling), and
// the engine's (see Engine.setCeiling): an early event then moves neither
// the order, nor the organisation's or a memory store's clock. It touches
// both halves (see Order): call it where neither runs on another
// goroutine, as live mode, which runs both on one, does.
func (p *Pipeline) SetCeiling(t time.Time) {
	p.seq.SetCeiling(t)
	p.eng.setCeiling(t)
}

// Early reports how many events arrived later than the ceiling.
func (p *Pipeline) Early() int64 { return p.seq.Early() }

// ConfirmProgress is the Sequencer's (see Sequencer.ConfirmProgress).
func (p *Pipeline) ConfirmProgress() { p.seq.ConfirmProgress() }

// Conflicts reports how many batches ran again because another writer had
// changed state they read (ErrConflict): with several instances, the price
// of the state they share.
func (p *Pipeline) Conflicts() int64 { return p.conflicts }

// process runs the rules over the ready events and keeps those an error
// left unprocessed.
func (p *Pipeline) process(ctx context.Context) error { return p.processAtLeast(ctx, 1) }

// processAtLeast is process that leaves ready events fewer than least for
// later. Push passes its batch size: one event released beyond a full
// batch made a batch of its own, which settled the full batch's write at
// once instead of letting it travel while the next batch ran.
func (p *Pipeline) processAtLeast(ctx context.Context, least int) error {
	done, err := p.processEvents(ctx, p.ready, p.batchSize, least)
	n := copy(p.ready, p.ready[done:])
	clear(p.ready[n:])
	p.ready = p.ready[:n]
	return err
}

// processEvents runs the rules over events size at a time, since
// advancing a watermark or flushing may release far more than a batch,
// until fewer than least are left, and reports how many it processed.
func (p *Pipeline) processEvents(ctx context.Context, events []enrich.Event, size, least int) (done int, err error) {
	if err := p.processUnsaved(ctx); err != nil {
		return 0, err
	}
	for len(events)-done >= max(least, 1) {
		batch := events[done:min(done+size, len(events))]
		switch {
		case p.window != nil:
			// A batch that ran is done even if the window's write
			// then failed: its alerts are out.
			var ran bool
			if ran, err = p.processWindowed(ctx, batch); ran {
				done += len(batch)
			}
			if err != nil {
				return done, err
			}
			continue
		case p.ahead != nil:
			err = p.processAhead(ctx, batch)
		default:
			err = p.processNow(ctx, batch)
		}
		if err != nil {
			return done, err
		}
		done += len(batch)
	}
	return done, nil
}

// processNow runs the rules over batch, saves the state and emits the
// alerts.
func (p *Pipeline) processNow(ctx context.Context, batch []enrich.Event) error {
	if err := p.processRetrying(ctx, batch); err != nil {
		return err
	}
	for _, a := range p.alerts {
		if err := p.emit(ctx, a); err != nil {
			return err
		}
	}
	return p.live.processed(ctx, batch)
}

// processRetrying runs the engine over the ready batch. When another
// instance changed state the batch read (ErrConflict), the attempt's alerts
// and counts are dropped and the batch runs again on reloaded state, so
// each event counts once and no alert rests on stale state.
func (p *Pipeline) processRetrying(ctx context.Context, batch []enrich.Event) error {
	attempt := func() error {
		var err error
		p.alerts, err = p.eng.Process(ctx, batch, p.alerts[:0])
		return err
	}
	if p.live.beforeSave != nil {
		var restore func()
		attempt, restore = p.stagedAttempt(ctx, batch)
		defer restore()
	}
	stats := p.eng.Stats()
	for n := 0; ; n++ {
		err := attempt()
		if err == nil {
			return nil
		}
		p.eng.stats = stats
		stats = p.eng.Stats()
		if !errors.Is(err, ErrConflict) {
			return err
		}
		p.conflicts++
		// Two instances that keep colliding back off a little, so one wins.
		wait := time.NewTimer(time.Duration(min(n, 20)) * time.Millisecond)
		select {
		case <-ctx.Done():
			wait.Stop()
			return fmt.Errorf("retrying after a conflict: %w", errors.Join(ctx.Err(), err))
		case <-wait.C:
		}
	}
}
