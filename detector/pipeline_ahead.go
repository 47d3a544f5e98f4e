package detector

import (
	"context"
	"errors"

	"github.com/atod-project/atod/enrich"
)

// SaverAhead is a Store whose Save is a round trip worth overlapping with
// the rules of the next batch (Redis). In replay the Pipeline sends batch
// N's state with SaveAhead, loads and runs batch N+1 while it travels, and
// emits N's alerts once the write is confirmed; were it refused (another
// writer, an outage), N+1's work is dropped and both batches run again the
// ordinary way. The alerts are the same, in the same order; only the
// store's round trip no longer stops the rules.
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
	// done and returns what Save would have. The caller waits for one
	// SaveAhead before the next, or a Save.
	SaveAhead(ctx context.Context, users []*UserState, addrs []*AddrState) (wait func() error)
}

// inflight is a batch whose state is on its way to the store.
type inflight struct {
	wait   func() error
	events []enrich.Event // a copy: the caller reuses its batches
	alerts []Alert
	stats  EngineStats // the engine's before the batch
}

// processAhead runs the rules over batch, then waits for the batch before
// it to be saved, emits that batch's alerts, and sends this batch's state
// without waiting.
func (p *Pipeline) processAhead(ctx context.Context, batch []enrich.Event) error {
	next := p.spare
	if next == nil {
		next = &inflight{}
	}
	p.spare = nil
	next.stats = p.eng.Stats()
	var err error
	next.alerts, err = p.eng.run(ctx, batch, next.alerts[:0])
	if err != nil {
		// Nothing of the batch is applied; the ordinary way waits out
		// what can be waited out.
		p.eng.stats = next.stats
		p.spare = next
		if err := p.Settle(ctx); err != nil {
			return err
		}
		return p.processNow(ctx, batch)
	}
	if prev := p.flight; prev != nil {
		p.flight = nil
		if err := prev.wait(); err != nil {
			p.noteConflict(err)
			// This batch ran on states that counted the previous one
			// saved: drop it, and run both again.
			p.eng.stats = prev.stats
			p.spare = next
			if err := p.processNow(ctx, prev.events); err != nil {
				return err
			}
			return p.processNow(ctx, batch)
		}
		if err := p.emitAll(ctx, prev); err != nil {
			return err
		}
	}
	next.wait = p.eng.saveAhead(ctx, p.ahead)
	p.eng.stats.Events += int64(len(batch))
	next.events = append(next.events[:0], batch...)
	p.flight = next
	return nil
}

// Settle waits for the state of the last batch to be saved and emits its
// alerts; after a failed save it runs the batch again. Flush settles;
// callers of Process call it at the end of the input.
func (p *Pipeline) Settle(ctx context.Context) error {
	f := p.flight
	if f == nil {
		return nil
	}
	p.flight = nil
	if err := f.wait(); err != nil {
		p.noteConflict(err)
		p.eng.stats = f.stats
		p.spare = f
		return p.processNow(ctx, f.events)
	}
	return p.emitAll(ctx, f)
}

// noteConflict counts a refused write sent ahead: its batch runs again.
func (p *Pipeline) noteConflict(err error) {
	if errors.Is(err, ErrConflict) {
		p.conflicts++
	}
}

// emitAll emits a settled batch's alerts and keeps its buffers for the
// next batch.
func (p *Pipeline) emitAll(ctx context.Context, f *inflight) error {
	defer func() {
		clear(f.events)
		f.events, f.wait = f.events[:0], nil
		p.spare = f
	}()
	for _, a := range f.alerts {
		if err := p.emit(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// saveAhead sends the states run left to save.
func (e *Engine) saveAhead(ctx context.Context, s SaverAhead) (wait func() error) {
	return s.SaveAhead(ctx, e.saveUsers, e.addrs)
}
