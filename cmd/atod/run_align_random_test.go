package main

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
)

// A guard over align's bookkeeping (ReadyPrefix and Consume, PutBack of a whole
// batch's tail, the budget, ticks at the head): partitions in and out of
// backlogs, some waiting, with late events; in the end every event is
// done exactly once.
func TestAlignRandomEveryEventOnce(t *testing.T) {
	for seed := uint64(1); seed <= 16; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { alignRandomRun(t, seed) })
	}
}

func alignRandomRun(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	cfg := detector.DefaultConfig()
	cfg.Lateness = 10 * time.Second
	clock := time.Now()
	var store detector.Store = detector.NewMemoryStore(0, 0)
	if seed%2 == 0 {
		// Saves ahead; some writes are refused (another instance), and
		// the batch and the one run meanwhile run again.
		sc := &scriptedRunStore{MemoryStore: detector.NewMemoryStore(0, 0)}
		for i := 0; i < 2000; i++ {
			var err error
			if rng.IntN(8) == 0 {
				err = detector.ErrConflict
			}
			sc.ahead = append(sc.ahead, err)
		}
		store = sc
	}
	d, _, _ := newTestLiveDetector(t, cfg, store)
	d.now = func() time.Time { return clock }
	d.catchUp = 64 + rng.IntN(200)
	d.batch = 8
	driveRandom(t, d, rng, &clock, 400, false)
}
