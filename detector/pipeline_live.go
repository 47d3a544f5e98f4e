package detector

import (
	"context"
	"fmt"
	"time"

	"github.com/atod-project/atod/enrich"
)

// Live mode (atod run) needs three things of a Pipeline that replay does
// not: to release held events by wall-clock time (Advance), to run the
// rules on what is released without waiting for a full batch (Drain), and
// to know, for its offset commits and its alert outbox, when a batch was
// processed and which alerts it raised before its state is saved.

// liveHooks are the optional callbacks of live mode; the zero value does
// nothing, which is replay.
type liveHooks struct {
	beforeSave  func(context.Context, []Alert) error
	onProcessed func(context.Context, []enrich.Event) error
}

func (h *liveHooks) processed(ctx context.Context, events []enrich.Event) error {
	if h.onProcessed == nil {
		return nil
	}
	return h.onProcessed(ctx, events)
}

// OnProcessed sets f to be called after each batch has been processed and
// its alerts emitted, with the batch's events: from then on they are fully
// handled. The slice is the Pipeline's and valid only during the call. An
// error from f stops the pipeline and is returned.
func (p *Pipeline) OnProcessed(f func(ctx context.Context, events []enrich.Event) error) {
	p.mustBeLive()
	p.live.onProcessed = f
}

// mustBeLive panics for a Pipeline over a WriteBehind: its state is saved
// once per window, long after a batch is processed, so that live mode's
// promise (a batch reported processed is saved) would not hold.
func (p *Pipeline) mustBeLive() {
	if p.window != nil {
		panic("detector: live mode over a WriteBehind store, which saves once per window")
	}
}

// BeforeSave sets f to be called with a batch's alerts after the rules ran
// and before the state they changed is saved. Saving records each alert's
// incident, so that running the same events again raises nothing: an
// alert lost between the save and its delivery would be lost for good.
// f is where such alerts are put somewhere durable first (an outbox). If
// the save then fails with ErrConflict, the batch runs again and f is
// called again with the new attempt's alerts, which replace the old ones;
// an error from f stops the pipeline and is returned. With a store that
// saves ahead, f is called when the batch before has been saved, and the
// batch's events are processed only once its own write is confirmed, by
// the next batch of any of the engine's Pipelines or by Settle.
func (p *Pipeline) BeforeSave(f func(ctx context.Context, alerts []Alert) error) {
	p.mustBeLive()
	p.live.beforeSave = f
}

// Advance releases the events held at or before watermark, though no
// later event came to push them out, and runs the rules over what is
// released: live mode calls it when a partition goes quiet.
func (p *Pipeline) Advance(ctx context.Context, watermark time.Time) error {
	p.ready = p.seq.Advance(watermark, p.ready)
	return p.process(ctx)
}

// Held reports how many events the Sequencer holds back.
func (p *Pipeline) Held() int { return p.seq.Pending() }

// Drain runs the rules over every event released so far, however few:
// live mode calls it when its input has nothing more buffered, so that an
// alert does not wait for a batch to fill.
func (p *Pipeline) Drain(ctx context.Context) error { return p.process(ctx) }

// stagedAttempt is processRetrying's attempt with the save moved after
// beforeSave: the engine saves into a stagedStore, the alerts go to
// beforeSave, and only then are the states written to the real store.
// restore puts the real store back.
func (p *Pipeline) stagedAttempt(ctx context.Context, batch []enrich.Event) (attempt func() error, restore func()) {
	real := p.eng.store
	staged := &stagedStore{Store: real}
	p.eng.store = staged
	attempt = func() error {
		staged.users, staged.addrs = nil, nil
		var err error
		p.alerts, err = p.eng.Process(ctx, batch, p.alerts[:0])
		if err == nil {
			err = p.live.beforeSave(ctx, p.alerts)
		}
		if err == nil {
			if err = real.Save(ctx, staged.users, staged.addrs); err != nil {
				err = fmt.Errorf("saving detector state: %w", err)
			}
		}
		return err
	}
	return attempt, func() { p.eng.store = real }
}

// stagedStore loads from the real store and keeps what the engine saves
// until the Pipeline writes it.
type stagedStore struct {
	Store
	users []*UserState
	addrs []*AddrState
}

func (s *stagedStore) Save(_ context.Context, users []*UserState, addrs []*AddrState) error {
	s.users, s.addrs = users, addrs
	return nil
}
