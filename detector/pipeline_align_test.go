package detector

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/atod-project/atod/enrich"
)

// The primitives live mode merges partitions with: Hold orders and runs
// nothing, and sets early events apart for TakeEarly; Frontier is what
// the Sequencer has passed; ReadyPrefix and Consume take the prefix up to a time;
// PutBack returns what was not run, in order.
func TestAlignPrimitives(t *testing.T) {
	store := &batchCountingStore{}
	eng, err := NewEngine(DefaultConfig(), store, zap.NewNop()) // lateness 1m
	if err != nil {
		t.Fatal(err)
	}
	p := NewPipeline(eng, func(context.Context, Alert) error { return nil })
	p.SetCeiling(t0.Add(time.Hour))
	if _, ok := p.FirstHeld(); ok || !p.Frontier().IsZero() {
		t.Fatal("an empty Pipeline holds something")
	}
	for _, d := range []time.Duration{0, 10 * time.Second, 5 * time.Second, 2 * time.Hour /* early */, 90 * time.Second, 3 * time.Minute} {
		p.Hold(ev(at(d)))
	}
	if store.loads != 0 {
		t.Fatalf("Hold ran %d batches", store.loads)
	}
	// Released so far: 0s, 5s and 10s once 1m30s came, 1m30s once 3m
	// came (3m less the lateness); 3m is held, the early event set apart.
	if got, want := p.Frontier(), t0.Add(2*time.Minute); !got.Equal(want) {
		t.Errorf("Frontier %s, want %s", got, want)
	}
	if first, ok := p.FirstHeld(); !ok || !first.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("FirstHeld %s %v, want 3m", first, ok)
	}
	if p.Ready() != 4 || p.Held() != 1 || len(p.early) != 1 || p.Early() != 1 {
		t.Fatalf("%d ready, %d held, %d early (counted %d), want 4, 1, 1 (1)", p.Ready(), p.Held(), len(p.early), p.Early())
	}
	if got := eventOffsets(p.TakeEarly(nil)); len(got) != 1 || got[0] != 2*time.Hour || len(p.early) != 0 {
		t.Fatalf("TakeEarly = %v", got)
	}
	out, ok := takeReady(p, t0.Add(7*time.Second), nil)
	if got := eventOffsets(out); !ok || len(got) != 2 || got[0] != 0 || got[1] != 5*time.Second {
		t.Fatalf("taking the ready events up to 7s = %v, %v; want 0s and 5s", got, ok)
	}
	p.PutBack(out[1:])
	out, _ = takeReady(p, t0.Add(time.Minute), nil)
	if got := eventOffsets(out); len(got) != 2 || got[0] != 5*time.Second || got[1] != 10*time.Second {
		t.Fatalf("after PutBack, taking them up to 1m = %v; want 5s and 10s", got)
	}
	p.AdvanceHeld(t0.Add(5 * time.Minute))
	if p.Held() != 0 || p.Ready() != 2 || p.ReadyUpTo(t0.Add(5*time.Minute)) != 2 || store.loads != 0 {
		t.Errorf("AdvanceHeld: %d held, %d ready, %d batches run", p.Held(), p.Ready(), store.loads)
	}
}

func eventOffsets(evs []enrich.Event) []time.Duration {
	var out []time.Duration
	for _, e := range evs {
		out = append(out, e.Time.Sub(t0))
	}
	return out
}

// takeReady takes the ready events up to upTo, as live mode's merge does
// (ReadyPrefix, then Consume).
func takeReady(p *Pipeline, upTo time.Time, out []enrich.Event) ([]enrich.Event, bool) {
	ready := p.ReadyPrefix(upTo)
	out = append(out, ready...)
	p.Consume(len(ready))
	return out, true
}
