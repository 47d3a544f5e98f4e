// Package storetest is the conformance suite of detector.Store: every state
// backend must give the detector what the in-memory store gives it, so that
// replaying the same events yields the same alerts whichever backend holds
// the state. The suite drives the detector through its public API
// (NewEngine, NewPipeline) with hand-built events and with the demo tenant
// of testdata/demo, and compares every alert with a run on MemoryStore.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/enrich"
)

// Run runs the suite. Each call of newStore must return an empty store of
// its own (on a shared server: a namespace of its own) that keeps state at
// least as long as detector.DefaultConfig's retentions; it may skip t.
func Run(t *testing.T, newStore func(t *testing.T) detector.Store) {
	t.Run("contract", func(t *testing.T) { testContract(t, newStore(t)) })
	t.Run("scenarios", func(t *testing.T) {
		for _, sc := range scenarios() {
			t.Run(sc.name, func(t *testing.T) { testScenario(t, sc, newStore(t)) })
		}
	})
	t.Run("lateness", func(t *testing.T) { testLateness(t, newStore) })
	t.Run("demo", func(t *testing.T) {
		events := DemoEvents(t)
		cfg := detector.DefaultConfig()
		want := Replay(t, cfg, memoryStore(cfg), events)
		if len(want) == 0 {
			t.Fatal("the demo tenant raised no alert on the memory store")
		}
		CompareAlerts(t, Replay(t, cfg, newStore(t), events), want)
	})
}

func memoryStore(cfg detector.Config) *detector.MemoryStore {
	return detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention)
}

// Replay runs events, in the order given, through a new engine and pipeline
// over store and returns the alerts in the order emitted.
func Replay(tb testing.TB, cfg detector.Config, store detector.Store, events []enrich.Event) []detector.Alert {
	tb.Helper()
	eng, err := detector.NewEngine(cfg, store, zap.NewNop())
	if err != nil {
		tb.Fatal(err)
	}
	var got []detector.Alert
	p := detector.NewPipeline(eng, func(_ context.Context, a detector.Alert) error {
		got = append(got, a)
		return nil
	})
	ctx := context.Background()
	for _, e := range events {
		if err := p.Push(ctx, e); err != nil {
			tb.Fatalf("pushing event %s: %v", e.ID, err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		tb.Fatalf("flushing: %v", err)
	}
	if late := p.Late(); late != 0 {
		tb.Fatalf("%d events arrived late", late)
	}
	return got
}

// CompareAlerts fails tb unless got and want are the same alerts in the
// same order, and shows the first difference.
func CompareAlerts(tb testing.TB, got, want []detector.Alert) {
	tb.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	for i := range max(len(got), len(want)) {
		var g, w []byte
		if i < len(got) {
			g, _ = json.Marshal(got[i])
		}
		if i < len(want) {
			w, _ = json.Marshal(want[i])
		}
		if string(g) != string(w) {
			tb.Fatalf("%d alerts, want %d; first difference at alert %d:\ngot  %s\nwant %s", len(got), len(want), i, g, w)
		}
	}
	tb.Fatalf("alerts differ in a way JSON does not show:\ngot  %+v\nwant %+v", got, want)
}

func testScenario(t *testing.T, sc scenario, store detector.Store) {
	cfg := detector.DefaultConfig()
	if sc.cfg != nil {
		sc.cfg(&cfg)
	}
	want := Replay(t, cfg, memoryStore(cfg), sc.events)
	counts := make(map[string]int)
	for _, a := range want {
		counts[a.Rule]++
	}
	for _, r := range sc.want {
		if counts[r] == 0 {
			t.Errorf("the memory store raised no %s: %v", r, counts)
		}
	}
	for _, r := range sc.wantNone {
		if counts[r] != 0 {
			t.Errorf("the memory store raised %s: %v", r, counts)
		}
	}
	for r, n := range sc.count {
		if counts[r] != n {
			t.Errorf("the memory store raised %d %s alerts, want %d", counts[r], r, n)
		}
	}
	CompareAlerts(t, Replay(t, cfg, store, sc.events), want)
}

// testLateness: the demo tenant, each event arriving up to 50s late (the
// lateness is a minute), gives the alerts of the sorted input.
func testLateness(t *testing.T, newStore func(*testing.T) detector.Store) {
	cfg := detector.DefaultConfig()
	events := DemoEvents(t)
	want := Replay(t, cfg, newStore(t), events)
	rng := rand.New(rand.NewPCG(4, 2))
	arrival := make([]time.Time, len(events))
	order := make([]int, len(events))
	for i, e := range events {
		arrival[i] = e.Time.Add(time.Duration(rng.Int64N(int64(50 * time.Second))))
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return arrival[a].Compare(arrival[b]) })
	shuffled := make([]enrich.Event, len(events))
	moved := 0
	for i, j := range order {
		shuffled[i] = events[j]
		if i != j {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("the shuffle left the input sorted")
	}
	CompareAlerts(t, Replay(t, cfg, newStore(t), shuffled), want)
}

// testContract checks Load and Save directly: unknown keys load empty, and
// whatever is saved loads back equal, every field of every state included.
func testContract(t *testing.T, store detector.Store) {
	ctx := context.Background()
	users := []string{"anna@example.org", "bob@example.org", "\x00org\x00tenant"}
	addrs := []netip.Addr{netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("2001:db8::7"),
		netip.MustParseAddr("::ffff:198.51.100.7")}
	us, as, err := store.Load(ctx, users, addrs)
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range us {
		if !reflect.DeepEqual(*u, detector.UserState{User: users[i]}) {
			t.Errorf("new account %q loaded as %+v", users[i], *u)
		}
	}
	for i, a := range as {
		if !reflect.DeepEqual(*a, detector.AddrState{Addr: addrs[i]}) {
			t.Errorf("new address %s loaded as %+v", addrs[i], *a)
		}
	}
	for round := range uint64(3) {
		wantU, wantA := make([]detector.UserState, len(us)), make([]detector.AddrState, len(as))
		for i := range us {
			fillUser(round*10+uint64(i), us[i], users[i])
			fillUser(round*10+uint64(i), &wantU[i], users[i])
		}
		for i := range as {
			fillAddr(round*10+uint64(i), as[i], addrs[i])
			fillAddr(round*10+uint64(i), &wantA[i], addrs[i])
		}
		if err := store.Save(ctx, us, as); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if us, as, err = store.Load(ctx, users, addrs); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for i, u := range us {
			got := *u
			got.Rev = 0
			if !reflect.DeepEqual(got, wantU[i]) {
				t.Errorf("round %d: account %q\nloaded %+v\nsaved  %+v", round, users[i], got, wantU[i])
			}
		}
		for i, a := range as {
			got := *a
			got.Rev = 0
			if !reflect.DeepEqual(got, wantA[i]) {
				t.Errorf("round %d: address %s\nloaded %+v\nsaved  %+v", round, addrs[i], got, wantA[i])
			}
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := store.Load(cancelled, users, addrs); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a cancelled context returned %v", err)
	}
}

// fillUser fills u at random from seed, keeping its key and revision and
// a last event time that no store has yet expired.
func fillUser(seed uint64, u *detector.UserState, key string) {
	rev := u.Rev
	Fill(rand.New(rand.NewPCG(seed, 1)), u)
	u.User, u.Seen, u.Rev = key, t0, rev
}

func fillAddr(seed uint64, a *detector.AddrState, key netip.Addr) {
	rev := a.Rev
	Fill(rand.New(rand.NewPCG(seed, 2)), a)
	a.Addr, a.Seen, a.Rev = key, t0, rev
}
