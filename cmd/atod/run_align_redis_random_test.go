package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/redisstore"
	"github.com/atod-project/atod/ingest"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// rivalStore is atod run's Redis store; before some writes ahead, another
// writer re-saves one of the batch's accounts, so the compare-and-set is
// refused (ErrConflict) and the batch, and the one run meanwhile, run again.
type rivalStore struct {
	detector.SaverAhead
	rival *redisstore.Store
	rng   *rand.Rand
	hits  int
}

func (s *rivalStore) SaveAhead(ctx context.Context, users []*detector.UserState, addrs []*detector.AddrState) func() error {
	if len(users) > 0 && s.rng.IntN(4) == 0 {
		u := users[s.rng.IntN(len(users))].User
		us, _, err := s.rival.Load(ctx, []string{u}, nil)
		if err == nil && us[0].Rev > 0 {
			us[0].Logins++ // a harmless change by another instance
			if s.rival.Save(ctx, us, nil) == nil {
				s.hits++
			}
		}
	}
	return s.SaverAhead.SaveAhead(ctx, users, addrs)
}

// A guard: the merge (runMerged, putBack), early events (runEarly, the
// Early flag) and save-ahead reruns after conflicts, under real Redis
// state and applied marks: with no crash, no event may be skipped as
// applied before (Reapplied) or counted twice (a failed sign-in's id seen
// twice: Duplicates), and every event is done exactly once. Early events
// come from accounts of their own (see
// TestAlignEarlyEventDoesNotSkipHeldLowerOffset for the same account).
func TestAlignRedisRandomEveryEventOnce(t *testing.T) {
	rs := startRedis(t)
	for seed := uint64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { reviewRedisRandomRun(t, rs.addr, seed) })
	}
}

func reviewRedisRandomRun(t *testing.T, addr string, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 11))
	fc := defaultFileConfig()
	fc.Redis.Addrs, fc.Redis.AllowPlainKeys = []string{addr}, true
	fc.Redis.KeyPrefix = fmt.Sprintf("rv%d:", seed)
	fc.Redis.RetryBackoffMin, fc.Redis.RetryBackoffMax = 10*time.Millisecond, 100*time.Millisecond
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "review_errors_total"}, []string{"component"})
	store, _, _, closeStore, err := openRunStore(ctx, &fc, zap.NewNop(), errs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeStore() })
	rival, err := redisstore.New(fc.Redis, redisstore.Options{UserRetention: fc.Detector.UserRetention, AddrRetention: fc.Detector.AddrRetention})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rival.Close() })
	rst := &rivalStore{SaverAhead: store.(detector.SaverAhead), rival: rival, rng: rand.New(rand.NewPCG(seed, 5))}

	cfg := detector.DefaultConfig()
	cfg.Lateness = 10 * time.Second
	clock := time.Now()
	d, _, _ := newTestLiveDetector(t, cfg, rst)
	d.eng.TrackPositions()
	d.now = func() time.Time { return clock }
	d.catchUp = 64 + rng.IntN(200)
	d.batch = 8
	const parts = 3
	var as []ingestkafka.Assignment
	for p := int32(0); p < parts; p++ {
		as = append(as, ingestkafka.Assignment{Partition: p})
	}
	if err := d.Assign(ctx, as); err != nil {
		t.Fatal(err)
	}
	evTime := [parts]time.Time{}
	offset := [parts]int64{}
	for p := range evTime {
		evTime[p] = clock.Add(-time.Hour + time.Duration(rng.IntN(600))*time.Second)
	}
	done := map[ingest.Position]int{}
	total := 0
	note := func(pos []ingest.Position) {
		for _, p := range pos {
			done[p]++
		}
	}
	ip := netip.MustParseAddr("203.0.113.9")
	for step := 0; step < 300; step++ {
		clock = clock.Add(time.Duration(rng.IntN(30)) * time.Millisecond)
		if rng.IntN(4) == 0 {
			more, err := d.Tick(ctx, clock, nil)
			if err != nil {
				t.Fatal(err)
			}
			note(more)
			continue
		}
		p := int32(rng.IntN(parts))
		n := 1 + rng.IntN(40)
		evs := make([]ingest.Event, n)
		for i := range evs {
			evTime[p] = evTime[p].Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
			at := evTime[p]
			u := fmt.Sprintf("u%d-%d@x", p, rng.IntN(5))
			switch rng.IntN(20) {
			case 0:
				at = at.Add(-time.Duration(rng.IntN(30)) * time.Second) // out of order, maybe late
			case 1:
				at = clock.Add(time.Hour + time.Duration(rng.IntN(60))*time.Second) // a clock ahead: early
				u = fmt.Sprintf("e%d-%d@x", p, rng.IntN(3))
			}
			evs[i] = ingest.Event{Time: at, User: u, IP: ip, Type: ingest.TypeLogin, Outcome: ingest.OutcomeFailure,
				ID: fmt.Sprintf("%d-%d", p, offset[p]), Pos: ingest.Position{Partition: p, Offset: offset[p]}}
			offset[p]++
		}
		total += n
		newest := clock
		if evTime[p].Before(clock.Add(-time.Minute)) && rng.IntN(3) > 0 {
			newest = evTime[p]
		}
		behind := int64(0)
		if rng.IntN(3) == 0 {
			behind = 1000
		}
		more, err := d.Handle(ctx, ingestkafka.Batch{Partition: p, Events: evs, Newest: newest, Behind: behind}, nil)
		if err != nil {
			t.Fatal(err)
		}
		note(more)
	}
	for p := int32(0); p < parts; p++ {
		ev := ingest.Event{Time: clock, User: "z@x", IP: ip, Type: ingest.TypeLogin, Outcome: ingest.OutcomeSuccess,
			ID: fmt.Sprintf("%d-%d", p, offset[p]), Pos: ingest.Position{Partition: p, Offset: offset[p]}}
		offset[p]++
		total++
		more, err := d.Handle(ctx, ingestkafka.Batch{Partition: p, Events: []ingest.Event{ev}, Newest: clock}, nil)
		if err != nil {
			t.Fatal(err)
		}
		note(more)
	}
	for i := 0; i < 40; i++ {
		clock = clock.Add(50 * time.Millisecond)
		more, err := d.Tick(ctx, clock, nil)
		if err != nil {
			t.Fatal(err)
		}
		note(more)
		time.Sleep(time.Millisecond)
	}
	more, err := d.Revoke(ctx, []int32{0, 1, 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	note(more)
	for pos, n := range done {
		if n != 1 {
			t.Errorf("%v done %d times", pos, n)
		}
	}
	if len(done) != total {
		t.Errorf("%d of %d events done (catch-up %d)", len(done), total, d.catchUp)
	}
	st := d.eng.Stats()
	if st.Reapplied != 0 || st.Duplicates != 0 {
		t.Errorf("with no crash, %d events skipped as applied before and %d failed sign-ins counted as duplicates; want 0 and 0", st.Reapplied, st.Duplicates)
	}
	var conflicts int64
	if d.together != nil {
		conflicts = d.together.Conflicts()
	}
	t.Logf("events %d, rival writes %d, conflicts %d", total, rst.hits, conflicts)
	if conflicts == 0 {
		t.Errorf("no write was refused: the guard did not exercise reruns")
	}
}
