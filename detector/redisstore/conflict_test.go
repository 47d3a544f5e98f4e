package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
)

// gatedStore holds its first Save (or SaveAhead) until proceed is closed,
// and counts conflicts. With ahead false it does not save ahead, so that
// the Pipeline saves each batch before the next.
type gatedStore struct {
	*Store
	ahead     bool
	once      sync.Once
	loaded    chan struct{}
	proceed   chan struct{}
	conflicts atomic.Int32
}

func (g *gatedStore) gate() {
	g.once.Do(func() {
		close(g.loaded)
		<-g.proceed
	})
}

func (g *gatedStore) count(err error) error {
	if errors.Is(err, detector.ErrConflict) {
		g.conflicts.Add(1)
	}
	return err
}

func (g *gatedStore) Save(ctx context.Context, us []*detector.UserState, as []*detector.AddrState) error {
	g.gate()
	return g.count(g.Store.Save(ctx, us, as))
}

func (g *gatedStore) SavesAhead() bool { return g.ahead && g.Store.SavesAhead() }

func (g *gatedStore) SaveAhead(ctx context.Context, us []*detector.UserState, as []*detector.AddrState) func() error {
	g.gate()
	wait := g.Store.SaveAhead(ctx, us, as)
	return func() error { return g.count(wait()) }
}

func replay(cfg detector.Config, store detector.Store, events []enrich.Event) ([]detector.Alert, error) {
	return replayBatches(cfg, store, events, detector.DefaultBatchSize)
}

func replayBatches(cfg detector.Config, store detector.Store, events []enrich.Event, batch int) ([]detector.Alert, error) {
	got, _, err := replayCounting(cfg, store, events, batch)
	return got, err
}

// replayCounting is replayBatches that also reports the Pipeline's
// conflicts.
func replayCounting(cfg detector.Config, store detector.Store, events []enrich.Event, batch int) (got []detector.Alert, conflicts int64, err error) {
	eng, err := detector.NewEngine(cfg, store, zap.NewNop())
	if err != nil {
		return nil, 0, err
	}
	p := detector.NewPipeline(eng, func(_ context.Context, a detector.Alert) error { got = append(got, a); return nil })
	p.SetBatchSize(batch)
	defer func() { conflicts = p.Conflicts() }()
	for _, e := range events {
		if err := p.Push(context.Background(), e); err != nil {
			return got, 0, err
		}
	}
	return got, 0, p.Flush(context.Background())
}

// Two instances share the accounts of a credential-stuffing attack from one
// address. A loads, B processes its half and saves, then A saves: A's
// address write is refused, its account writes have landed. The Pipeline
// runs A's batch again; the accounts read back as before A's first attempt,
// so no failure counts twice, the address ends up with all forty accounts,
// and the attack is alerted once (by B): A's first attempt, which saw only
// its own half and raised an alert, emitted nothing. Saving ahead (the
// refusal found once A's next batch ran, or at the end) or not, the same.
func TestConcurrentInstancesOnOneAddress(t *testing.T) {
	srv := startRedis(t)
	for _, c := range []struct {
		ahead bool
		batch int
	}{{true, detector.DefaultBatchSize}, {true, 8}, {false, detector.DefaultBatchSize}} {
		t.Run(fmt.Sprintf("ahead=%v,batch=%d", c.ahead, c.batch), func(t *testing.T) {
			concurrentInstances(t, testConfig([]string{srv.addr()}, fmt.Sprintf("atod%v%d:", c.ahead, c.batch)), c.ahead, c.batch)
		})
	}
}

func concurrentInstances(t *testing.T, cfg Config, ahead bool, batch int) {
	ip := netip.MustParseAddr("105.112.9.9")
	var evA, evB []enrich.Event
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	for i := range 40 {
		e := enrich.Event{Event: ingest.Event{Time: t0.Add(time.Duration(i) * 10 * time.Second),
			User: fmt.Sprintf("u%02d@example.org", i), IP: ip, Type: ingest.TypeLogin,
			Outcome: ingest.OutcomeFailure, Reason: ingest.ReasonUnknownUser, ID: fmt.Sprintf("ev-%02d", i)},
			Geo: enrich.Geo{Kind: enrich.KindPublic, Country: "NG", ASN: 29465}}
		if i%2 == 0 {
			evA = append(evA, e)
		} else {
			evB = append(evB, e)
		}
	}
	a := &gatedStore{Store: newTestStore(t, cfg), ahead: ahead, loaded: make(chan struct{}), proceed: make(chan struct{})}
	b := newTestStore(t, cfg)
	det := detector.DefaultConfig()

	var alertsA []detector.Alert
	var conflictsA int64
	var errA error
	done := make(chan struct{})
	go func() {
		defer close(done)
		alertsA, conflictsA, errA = replayCounting(det, a, evA, batch)
	}()
	<-a.loaded
	alertsB, err := replay(det, b, evB)
	if err != nil {
		t.Fatal(err)
	}
	close(a.proceed)
	<-done
	if errA != nil {
		t.Fatal(errA)
	}
	if n := a.conflicts.Load(); n != 1 || conflictsA != 1 {
		t.Errorf("A met %d conflicts, its Pipeline counted %d; want 1", n, conflictsA)
	}
	if len(alertsA) != 0 || len(alertsB) != 1 || alertsB[0].Rule != detector.RuleCredentialStuffing {
		t.Errorf("alerts: A %d, B %d (%v); want only B's stuffing alert", len(alertsA), len(alertsB), alertsB)
	}

	check := newTestStore(t, cfg)
	users := make([]string, 40)
	for i := range users {
		users[i] = fmt.Sprintf("u%02d@example.org", i)
	}
	us, as, err := check.Load(context.Background(), users, []netip.Addr{ip})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if len(u.Failures) != 1 {
			t.Errorf("%s has %d failures, want 1", u.User, len(u.Failures))
		}
	}
	total := 0
	for _, au := range as[0].Users {
		total += au.Failures
	}
	if len(as[0].Users) != 40 || total != 40 {
		t.Errorf("address holds %d accounts and %d failures, want 40 and 40", len(as[0].Users), total)
	}
}
