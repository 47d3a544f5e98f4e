package detector

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
)

// reapplyStory is brute force against two accounts and a spray across
// several, with successes in between: counts matter to every rule in it,
// so an event counted twice moves an incident's start. Offsets are dealt
// out of event-time order, as a Sequencer meets them.
func reapplyStory(seed uint64) []enrich.Event {
	var evs []enrich.Event
	users := []string{"anna@example.org", "bert@example.org", "cleo@example.org", "dan@example.org", "eve@example.org"}
	for i := range 60 {
		u := users[i%len(users)]
		o := []evOpt{at(time.Duration(i) * 7 * time.Second), user(u), failed(), reason("bad_password"), from("95.24.0.7"), where(lagos)}
		if i%9 == 4 {
			o = []evOpt{at(time.Duration(i) * 7 * time.Second), user(u), where(berlin)}
		}
		evs = append(evs, ev(o...))
	}
	// Two events of one account at one instant, both counted.
	evs = append(evs, ev(at(30*time.Second), user("anna@example.org"), failed(), reason("bad_password"), from("95.24.0.8"), where(lagos)))
	slices.SortStableFunc(evs, func(a, b enrich.Event) int { return a.Time.Compare(b.Time) })
	offs := rand.New(rand.NewPCG(seed, 1)).Perm(len(evs))
	for i := range evs {
		evs[i].Pos = ingest.Position{Partition: 3, Offset: int64(offs[i])}
	}
	return evs
}

func processAll(t *testing.T, eng *Engine, evs []enrich.Event, batch int) []Alert {
	t.Helper()
	var out []Alert
	for i := 0; i < len(evs); i += batch {
		var err error
		if out, err = eng.Process(context.Background(), evs[i:min(i+batch, len(evs))], out); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func ids(as []Alert) []string {
	var s []string
	for _, a := range as {
		s = append(s, a.Rule+" "+a.User+" "+a.ID)
	}
	return s
}

// A crash after k events were saved: the restarted engine gets every
// record from the lowest offset not yet applied (the committed offset)
// again, in event-time order. With TrackPositions the alerts of the two
// runs together are exactly those of one run; without, some move.
func TestReappliedEventsAreSkipped(t *testing.T) {
	cfg := DefaultConfig()
	for seed := range uint64(20) {
		evs := reapplyStory(seed)
		clean := func() *Engine {
			eng, err := NewEngine(cfg, NewMemoryStore(cfg.UserRetention, cfg.AddrRetention), zap.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			eng.TrackPositions()
			return eng
		}
		want := ids(processAll(t, clean(), evs, 4))
		if len(want) == 0 {
			t.Fatal("the story raises no alert")
		}
		for _, k := range []int{5, 23, 31, 47} {
			store := NewMemoryStore(cfg.UserRetention, cfg.AddrRetention)
			first, _ := NewEngine(cfg, store, zap.NewNop())
			first.TrackPositions()
			got := ids(processAll(t, first, evs[:k], 4))
			committed := int64(len(evs))
			for _, e := range evs[k:] {
				committed = min(committed, e.Pos.Offset)
			}
			var again []enrich.Event
			for _, e := range evs {
				if e.Pos.Offset >= committed {
					again = append(again, e)
				}
			}
			second, _ := NewEngine(cfg, store, zap.NewNop())
			second.TrackPositions()
			got = append(got, ids(processAll(t, second, again, 4))...)
			if !slices.Equal(got, want) {
				t.Errorf("seed %d, crash after %d: alerts\n%v\nwant\n%v", seed, k, got, want)
			}
			if skipped := second.Reapplied(); skipped != int64(len(again)-(len(evs)-k)) {
				t.Errorf("seed %d, crash after %d: %d skipped, want the %d applied before the crash",
					seed, k, skipped, len(again)-(len(evs)-k))
			}
		}
	}
}

// Without positions (replay from files), an event earlier than its
// account's last one is late, not a repeat: it is evaluated.
func TestReapplyOffWithoutPositions(t *testing.T) {
	cfg := DefaultConfig()
	eng, err := NewEngine(cfg, NewMemoryStore(cfg.UserRetention, cfg.AddrRetention), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	evs := []enrich.Event{ev(at(time.Minute)), ev(at(0), failed(), reason("bad_password"))}
	processAll(t, eng, evs, 1)
	if eng.Reapplied() != 0 {
		t.Errorf("%d events skipped without TrackPositions", eng.Reapplied())
	}
}
