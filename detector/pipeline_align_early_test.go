package detector

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"
)

// An event the ceiling let through early joins the ready events at once,
// ahead of older events the Sequencer releases later. The merge promises
// to take it "where it stands". It decides by the ceiling of now, though:
// once live mode's ceiling (the clock plus 5 minutes, set at each Handle)
// has passed the event's time, the event counts as an ordinary one far
// after upTo, and every event of its partition behind it stays untaken,
// though all are within upTo: while any partition catches up, the
// partition's events stall until the budget (2 x catch_up_events) runs
// everything regardless, and the other partitions' later events run
// before them.
func TestAlignEarlyEventDoesNotBlockTheReadyBehindIt(t *testing.T) {
	eng, err := NewEngine(DefaultConfig(), NewMemoryStore(0, 0), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	p := NewPipeline(eng, func(context.Context, Alert) error { return nil })
	p.ConfirmProgress()
	// A backlog an hour old: the ceiling is the clock plus 5 minutes.
	clock := t0.Add(time.Hour)
	p.SetCeiling(clock.Add(5 * time.Minute))
	p.Hold(ev(at(time.Hour + 5*time.Minute + time.Second))) // early by a second
	for i := 0; i < 300; i++ {                              // 5 minutes of backlog
		p.Hold(ev(at(time.Duration(i) * time.Second)))
	}
	// Two seconds later the next fetch moves the ceiling on.
	p.SetCeiling(clock.Add(5*time.Minute + 2*time.Second))
	upTo := p.Frontier()
	ready := p.Ready()
	if ready < 200 {
		t.Fatalf("%d ready; the test wants the Sequencer to have released most", ready)
	}
	out, _ := takeReady(p, upTo, nil)
	if len(out) != ready {
		t.Errorf("taking the ready events (frontier %v) took %d of %d ready events (all at or before it, but one let through early): the early event, past the ceiling when it came but not past today's, blocks the rest",
			upTo.Sub(t0), len(out), ready)
	}
}
