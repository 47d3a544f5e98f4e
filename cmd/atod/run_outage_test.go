package main

import (
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/atod-project/atod/detector"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// Records that waited in Kafka longer than Redis keeps state (a weekend's
// outage against redis.addr_ttl's 26.4 h) are read with the state from
// before them expired: a review found a slow credential-stuffing attack
// straddling such an outage unseen, where replay raised it. atod says so
// when it takes the partitions over; a shorter wait is silent.
func TestAssignWarnsOfStateExpiredDuringOutage(t *testing.T) {
	cfg := detector.DefaultConfig()
	now := time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		waited time.Duration
		warn   bool
	}{{27 * time.Hour, true}, {2 * time.Hour, false}, {0, false}} {
		d, _, _ := newTestLiveDetector(t, cfg, detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention))
		core, logs := observer.New(zap.WarnLevel)
		d.log, d.now, d.stateTTL = zap.New(core), func() time.Time { return now }, 26*time.Hour+24*time.Minute
		a := ingestkafka.Assignment{Partition: 0}
		if c.waited > 0 {
			a.Since = now.Add(-c.waited)
		}
		d.warnOutage([]ingestkafka.Assignment{a, {Partition: 1}})
		got := logs.FilterMessageSnippet("longer than redis keeps detector state").Len() == 1
		if got != c.warn {
			t.Errorf("waited %s: warned %v, want %v (%v)", c.waited, got, c.warn, logs.All())
		}
	}
}
