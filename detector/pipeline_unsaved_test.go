package detector

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// A Pipeline that kept the events of a failed rerun (unsaved) runs them
// first next time; another Pipeline's batch may be on its way to the
// store by then. SaverAhead says a Save waits for the SaveAhead before
// it: the unsaved batch ran on states that counted the batch in flight
// saved. When that write is then refused, the batch in flight runs again
// after the unsaved one, and the events of the unsaved batch, saved and
// processed meanwhile, must stay counted.
func TestUnsavedRunsAfterTheWriteInFlight(t *testing.T) {
	down := errors.New("connection lost")
	// a's write ahead fails, and so does its rerun: a is unsaved. b goes
	// ahead, and its write is refused.
	store := &scriptedAheadStore{script: []error{down, down, ErrConflict}}
	var hooks []string
	eng, ps := livePipelines(t, store, 2, &hooks)
	ctx := context.Background()
	if err := pushRun(ctx, ps[0], "a@x", 0); err != nil {
		t.Fatal(err)
	}
	if err := eng.Settle(ctx); !errors.Is(err, down) || !ps[0].Unsaved() {
		t.Fatalf("settle: %v, unsaved %v; want the rerun's error and a kept", err, ps[0].Unsaved())
	}
	if err := pushRun(ctx, ps[1], "b@x", 1); err != nil {
		t.Fatal(err)
	}
	// a's Pipeline runs what it kept while b's write travels.
	if err := ps[0].Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if err := eng.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	log := strings.Join(store.log, ", ")
	if i, j := strings.Index(log, "confirmed b@x"), strings.LastIndex(log, "save a@x"); i < 0 || j < i {
		t.Errorf("store calls: %s; want b's write confirmed before a's batch is saved", log)
	}
	if got := eng.Stats().Events; got != 2 {
		t.Errorf("%d events counted; want 2 (a once, b once)", got)
	}
}
