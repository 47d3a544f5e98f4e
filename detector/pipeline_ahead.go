package detector

import (
	"context"
	"errors"

	"github.com/atod-project/atod/enrich"
)

// SaverAhead is a Store whose Save is a round trip worth overlapping with
// the rules of the next batch (Redis). The Pipeline sends batch N's state
// with SaveAhead, loads and runs batch N+1 while it travels, and emits N's
// alerts once the write is confirmed; were it refused (another writer, an
// outage), N+1's work is dropped and both batches run again the ordinary
// way. The alerts are the same, in the same order; only the store's round
// trip no longer stops the rules.
//
// A wrapper of such a store that changes what Save does must change
// SaveAhead alike, or not offer it (SavesAhead false): the Pipeline calls
// Save only after a failed SaveAhead.
type SaverAhead interface {
	Store
	// SavesAhead reports whether SaveAhead may be used: a Load issued
	// after SaveAhead returned must see the states as saved without
	// waiting for the write.
	SavesAhead() bool
	// SaveAhead does what Save does up to sending the write and returns;
	// the states may change from then on. wait blocks until the write is
	// done and returns what Save would have; it is called once, maybe on
	// another goroutine (Engine.Saved). The caller waits for one
	// SaveAhead before the next, or a Save.
	SaveAhead(ctx context.Context, users []*UserState, addrs []*AddrState) (wait func() error)
}

// inflight is a batch whose state is on its way to the store. There is at
// most one per Engine, whichever of its Pipelines ran it: live mode gives
// each Kafka partition a Pipeline over one Engine, and partition B's batch
// runs while partition A's is saved. B's batch may have read what A's
// wrote (an address, the organisation), so a refused write drops the batch
// run after it whatever its Pipeline, as it does within one.
type inflight struct {
	owner *Pipeline // the Pipeline that ran it: its emit, hooks and buffers
	wait  func() error
	// landed is closed once wait has returned err, when Saved ran it on a
	// goroutine; nil until then.
	landed chan struct{}
	err    error
	events []enrich.Event // a copy: the caller reuses its batches
	alerts []Alert
	stats  EngineStats // the engine's before the batch
}

// processAhead runs the rules over batch, then waits for the batch before
// it to be saved and finishes that batch (its alerts emitted, live mode
// told it was processed), and sends this batch's state without waiting.
// In live mode the batch's alerts go to beforeSave first, as they do
// before an ordinary save.
func (p *Pipeline) processAhead(ctx context.Context, batch []enrich.Event) error {
	next := p.eng.spare
	if next == nil {
		next = &inflight{}
	}
	p.eng.spare = nil
	next.owner = p
	next.stats = p.eng.Stats()
	var err error
	next.alerts, err = p.eng.run(ctx, batch, next.alerts[:0])
	if err != nil {
		// Nothing of the batch is applied; the ordinary way waits out
		// what can be waited out.
		p.drop(next)
		if err := p.Settle(ctx); err != nil {
			return err
		}
		return p.processNow(ctx, batch)
	}
	refused, err := p.eng.settle(ctx)
	if refused {
		// This batch ran on states that counted the previous one saved:
		// it is dropped (settle put the stats back), and runs again after
		// the previous one did.
		p.eng.spare = next
		if err != nil {
			return err
		}
		return p.processNow(ctx, batch)
	}
	if err != nil {
		return err
	}
	if p.live.beforeSave != nil {
		if err := p.live.beforeSave(ctx, next.alerts); err != nil {
			p.drop(next) // the state is not saved
			return err
		}
	}
	next.wait = p.eng.saveAhead(ctx, p.ahead)
	p.eng.stats.Events += int64(len(batch))
	next.events = append(next.events[:0], batch...)
	p.eng.flight = next
	return nil
}

// Settle waits for the state of the batch in flight to be saved, by this
// Pipeline or another of its engine's, and finishes it; after a failed
// save it runs the batch again. With a WriteBehind store it commits the
// window. Flush settles; callers of Process call it at the end of the
// input.
func (p *Pipeline) Settle(ctx context.Context) error {
	if p.window != nil {
		return p.settleWindows(ctx)
	}
	return p.eng.Settle(ctx)
}

// Settle is Pipeline.Settle for whichever Pipeline ran the batch in
// flight: live mode calls it before it reports events done.
func (e *Engine) Settle(ctx context.Context) error {
	_, err := e.settle(ctx)
	return err
}

// settle is Settle that also reports whether the write was refused, and
// the batch ran again: a batch run on its states meanwhile is then stale.
func (e *Engine) settle(ctx context.Context) (refused bool, err error) {
	f := e.flight
	if f == nil {
		return false, nil
	}
	e.flight = nil
	if werr := f.wait(); werr != nil {
		e.stats = f.stats
		return true, f.owner.rerun(ctx, f, werr)
	}
	return false, f.owner.finish(ctx, f)
}

// drop counts a batch run ahead as not run and keeps its buffers.
func (p *Pipeline) drop(f *inflight) {
	p.eng.stats = f.stats
	p.eng.spare = f
}

// Abandon forgets the batch in flight, if any, once its write is done:
// live mode calls it when a generation ended without finishing its
// partitions. Its events are read again, its alerts are in the outbox,
// and its state, had it landed, marks the events applied.
func (e *Engine) Abandon() {
	if f := e.flight; f != nil {
		e.flight, e.stats = nil, f.stats
		_ = f.wait() // the store notes a write that may have landed
		f.owner.recycle(f)
	}
}

// rerun runs a batch whose save ahead failed (err) again the ordinary
// way, which waits out an outage and reruns after conflicts. Should that
// fail too (the context ended), the events are kept as unsaved, to run
// before any other of the Pipeline's: the caller counted them processed
// when the batch went ahead.
func (p *Pipeline) rerun(ctx context.Context, f *inflight, err error) error {
	if errors.Is(err, ErrConflict) {
		p.conflicts++
	}
	defer p.recycle(f)
	if err := p.processNow(ctx, f.events); err != nil {
		p.unsaved = append(p.unsaved[:0], f.events...)
		return err
	}
	return nil
}

// processUnsaved runs the events a failed rerun left (see rerun).
func (p *Pipeline) processUnsaved(ctx context.Context) error {
	if len(p.unsaved) == 0 {
		return nil
	}
	// A batch of another of the engine's Pipelines may be in flight: an
	// ordinary Save must follow its confirmed write, or these events run
	// on states that count it saved, and a refusal then reruns it after
	// them (counting shared states twice).
	if err := p.eng.Settle(ctx); err != nil {
		return err
	}
	if err := p.processNow(ctx, p.unsaved); err != nil {
		return err
	}
	clear(p.unsaved)
	p.unsaved = p.unsaved[:0]
	return nil
}

// DropUnsaved forgets the events a failed rerun left (see rerun), without
// running them: live mode calls it when a new generation of partitions
// begins, since the records of those events are read again by whichever
// instance owns them now, and their alerts stayed in the outbox.
func (p *Pipeline) DropUnsaved() {
	clear(p.unsaved)
	p.unsaved = p.unsaved[:0]
}

// Unsaved reports whether the Pipeline holds events whose batch ran, and
// whose alerts went to BeforeSave, but whose state may not be saved: live
// mode then keeps its outbox as it is.
func (p *Pipeline) Unsaved() bool { return len(p.unsaved) > 0 }

// finish emits a saved batch's alerts and tells live mode the batch was
// processed.
func (p *Pipeline) finish(ctx context.Context, f *inflight) error {
	defer p.recycle(f)
	for _, a := range f.alerts {
		if err := p.emit(ctx, a); err != nil {
			return err
		}
	}
	return p.live.processed(ctx, f.events)
}

// recycle keeps a settled batch's buffers for the engine's next batch.
func (p *Pipeline) recycle(f *inflight) {
	clear(f.events)
	f.events, f.wait, f.landed, f.err, f.owner = f.events[:0], nil, nil, nil, nil
	p.eng.spare = f
}

// saveAhead sends the states run left to save.
func (e *Engine) saveAhead(ctx context.Context, s SaverAhead) (wait func() error) {
	return s.SaveAhead(ctx, e.saveUsers, e.addrs)
}

// Saved reports whether Settle would return without waiting: no batch's
// state is on its way to the store, or its write is done. Live mode asks
// while it works off a backlog, where waiting for each batch's write
// before fetching the next kept Redis and the rules from overlapping. The
// first call for a batch has its wait run on a goroutine of its own from
// then on (see SaverAhead).
func (e *Engine) Saved() bool {
	f := e.flight
	if f == nil {
		return true
	}
	if f.landed == nil {
		landed, wait := make(chan struct{}), f.wait
		f.landed = landed
		go func() {
			f.err = wait()
			close(landed)
		}()
		f.wait = func() error {
			<-landed
			return f.err
		}
	}
	select {
	case <-f.landed:
		return true
	default:
		return false
	}
}

// Saving reports whether the batch whose state is on its way to the store
// is one of this Pipeline's: its alerts are staged (BeforeSave) but not
// yet processed, so live mode must not clear its outbox.
func (p *Pipeline) Saving() bool { return p.eng.flight != nil && p.eng.flight.owner == p }
