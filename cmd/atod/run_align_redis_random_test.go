package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/redisstore"
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
	total := driveRandom(t, d, rng, &clock, 300, true)
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
