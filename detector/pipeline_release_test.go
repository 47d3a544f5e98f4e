package detector

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/atod-project/atod/enrich"
)

// Release hands over what Advance would run, in the same order, and keeps
// none of it; a Pipeline that holds more than the limit releases nothing
// and runs its events itself.
func TestReleaseHandsOverWhatAdvanceWouldRun(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Lateness = time.Minute
	var ran []string
	events := []enrich.Event{
		ev(at(2*time.Second), user("b@x")),
		ev(at(0), user("a@x")),
		ev(at(time.Second), user("c@x")),
		ev(at(60*time.Second), user("e@x")),
		ev(at(90*time.Second), user("d@x")), // releases a, b and c to the ready batch, which is not full
	}
	eng, err := NewEngine(cfg, NewMemoryStore(cfg.UserRetention, cfg.AddrRetention), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	p := NewPipeline(eng, func(context.Context, Alert) error { return nil })
	p.OnProcessed(func(_ context.Context, evs []enrich.Event) error {
		for _, e := range evs {
			ran = append(ran, e.User)
		}
		return nil
	})
	ctx := context.Background()
	for _, e := range events {
		if err := p.Push(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if p.Held() != 2 {
		t.Fatalf("held %d events; want e@x and d@x", p.Held())
	}
	if out, ok := p.Release(t0.Add(time.Minute), nil, 4); ok || len(out) != 0 || p.Held() != 2 {
		t.Fatalf("over the limit: released %d (%v), %d held; want nothing released", len(out), ok, p.Held())
	}
	out, ok := p.Release(t0.Add(time.Minute), []enrich.Event{ev(user("before@x"))}, 5)
	var got []string
	for _, e := range out {
		got = append(got, e.User)
	}
	if !ok || !slices.Equal(got, []string{"before@x", "a@x", "c@x", "b@x", "e@x"}) || p.Held() != 1 {
		t.Fatalf("released %v (%v), %d held; want before@x, then a, c, b, e in time order, and d held", got, ok, p.Held())
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ran, []string{"d@x"}) {
		t.Errorf("the Pipeline ran %v itself; want only d@x, which it kept", ran)
	}
}
