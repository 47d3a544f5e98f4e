package detector

import (
	"context"
	"errors"
	"fmt"

	"github.com/atod-project/atod/enrich"
)

// Windows of a Pipeline over a WriteBehind store: the state of many
// batches is written back at once, while the next window runs. A window
// ends when it holds DefaultWindowEvents events or would write
// DefaultWindowKeys states, whichever comes first (WriteBehind.SetWindow
// changes both), and at Settle (the end of the input).
//
// Each window writes every state it changed, so the longer the window the
// fewer writes: in a replay every account comes back within a million
// events or so. What bounds a window is the memory of its write, some 450
// bytes a state while it is encoded and sent (the value and its
// bookkeeping, about 120 MB at DefaultWindowKeys), and how far Redis may
// lag behind the replay.
//
// Windowed mode is replay's, and a replay is the only writer of its state:
// a write refused because another writer changed a state under it
// (ErrConflict) ends the run with ErrNotSoleWriter. Running the window
// again instead would mean keeping every event of the window, which cost
// about a third of a replay's time, for a setup that gives wrong answers
// anyway: two replays that share states interleave months of event time.
const (
	DefaultWindowEvents = 1 << 23
	DefaultWindowKeys   = 1 << 18
)

// ErrNotSoleWriter is wrapped by the error of a windowed Pipeline whose
// state another writer changed.
var ErrNotSoleWriter = errors.New("detector state changed under this run by another writer, or lost by the store: " +
	"a replay with Redis state must be its only writer; give it a key prefix (redis.key_prefix) or a Redis of its own")

// window is a Pipeline's state in windowed mode.
type window struct {
	store  *WriteBehind
	wait   func() error // the write in flight; nil: none
	events int          // since the last write was sent
}

// processWindowed runs the rules over batch, emits its alerts, and sends
// the window's state once the window is full. It reports whether the
// batch ran: it did even if a write then failed.
func (p *Pipeline) processWindowed(ctx context.Context, batch []enrich.Event) (ran bool, err error) {
	if p.alerts, err = p.eng.Process(ctx, batch, p.alerts[:0]); err != nil {
		// Loading failed: nothing of the batch ran.
		return false, err
	}
	for _, a := range p.alerts {
		if err := p.emit(ctx, a); err != nil {
			return true, err
		}
	}
	w := p.window
	w.events += len(batch)
	if w.events >= w.store.windowEvents || w.store.Dirty() >= w.store.windowKeys {
		return true, p.sendWindow(ctx)
	}
	return true, nil
}

// sendWindow waits for the write in flight and sends the window's state
// without waiting for it.
func (p *Pipeline) sendWindow(ctx context.Context) error {
	if err := p.settleWindow(); err != nil {
		return err
	}
	w := p.window
	w.wait, w.events = w.store.CommitAhead(ctx), 0
	return nil
}

// settleWindow waits for the write in flight, if any.
func (p *Pipeline) settleWindow() error {
	w := p.window
	if w.wait == nil {
		return nil
	}
	err := w.wait()
	w.wait = nil
	switch {
	case errors.Is(err, ErrConflict):
		p.conflicts++
		return fmt.Errorf("%w: %w", ErrNotSoleWriter, err)
	case err != nil:
		return fmt.Errorf("saving detector state: %w", err)
	}
	return nil
}

// settleWindows is Settle in windowed mode: every state is saved when it
// returns.
func (p *Pipeline) settleWindows(ctx context.Context) error {
	if err := p.sendWindow(ctx); err != nil {
		return err
	}
	return p.settleWindow()
}
