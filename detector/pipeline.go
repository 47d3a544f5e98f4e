package detector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atod-project/atod/enrich"
)

// DefaultBatchSize is how many in-order events the Pipeline hands the engine
// at once: big enough that a remote store's two round trips a batch are
// cheap per event, small enough that alerts leave within moments.
const DefaultBatchSize = 512

// Pipeline puts a Sequencer in front of an Engine and batches what it
// releases. Emit is called for every alert, in order, from the goroutine
// that calls Push or Flush; an error from Emit stops the pipeline and is
// returned. A Pipeline is not safe for concurrent use.
type Pipeline struct {
	seq       *Sequencer
	eng       *Engine
	emit      func(context.Context, Alert) error
	batchSize int

	ready  []enrich.Event
	alerts []Alert
}

// NewPipeline returns a pipeline over eng that holds events back by the
// engine's configured lateness.
func NewPipeline(eng *Engine, emit func(context.Context, Alert) error) *Pipeline {
	return &Pipeline{
		seq:       NewSequencer(eng.cfg.Lateness),
		eng:       eng,
		emit:      emit,
		batchSize: DefaultBatchSize,
	}
}

// Push adds one event; it runs the rules once a batch of events is due.
func (p *Pipeline) Push(ctx context.Context, e enrich.Event) error {
	p.ready = p.seq.Push(e, p.ready)
	if len(p.ready) >= p.batchSize {
		return p.process(ctx)
	}
	return nil
}

// Flush releases and processes every held event: the end of the input.
func (p *Pipeline) Flush(ctx context.Context) error {
	p.ready = p.seq.Flush(p.ready)
	return p.process(ctx)
}

// Late reports how many events arrived later than the lateness allows.
func (p *Pipeline) Late() int64 { return p.seq.Late() }

func (p *Pipeline) process(ctx context.Context) error {
	if len(p.ready) == 0 {
		return nil
	}
	if err := p.processRetrying(ctx); err != nil {
		return err
	}
	clear(p.ready)
	p.ready = p.ready[:0]
	for _, a := range p.alerts {
		if err := p.emit(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// processRetrying runs the engine over the ready batch. When another
// instance changed state the batch read (ErrConflict), the attempt's alerts
// and counts are dropped and the batch runs again on reloaded state, so
// each event counts once and no alert rests on stale state.
func (p *Pipeline) processRetrying(ctx context.Context) error {
	stats := p.eng.Stats()
	for attempt := 0; ; attempt++ {
		var err error
		p.alerts, err = p.eng.Process(ctx, p.ready, p.alerts[:0])
		if err == nil {
			return nil
		}
		p.eng.stats = stats
		stats = p.eng.Stats()
		if !errors.Is(err, ErrConflict) {
			return err
		}
		// Two instances that keep colliding back off a little, so one wins.
		wait := time.NewTimer(time.Duration(min(attempt, 20)) * time.Millisecond)
		select {
		case <-ctx.Done():
			wait.Stop()
			return fmt.Errorf("retrying after a conflict: %w", errors.Join(ctx.Err(), err))
		case <-wait.C:
		}
	}
}
