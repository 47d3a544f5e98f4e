package main

import (
	"context"
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
// at the partition's first batch when that is a backlog; a shorter wait,
// or a partition that was only quiet (its first records are fresh), is
// silent.
func TestWarnsOfStateExpiredDuringOutage(t *testing.T) {
	cfg := detector.DefaultConfig()
	now := time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		waited, recordAge time.Duration
		warn              bool
	}{
		{27 * time.Hour, 26 * time.Hour, true},
		{27 * time.Hour, time.Second, false}, // quiet, not down
		{2 * time.Hour, time.Hour, false},
		{0, time.Hour, false},
	} {
		d, _, _ := newTestLiveDetector(t, cfg, detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention))
		core, logs := observer.New(zap.WarnLevel)
		d.log, d.now, d.stateTTL = zap.New(core), func() time.Time { return now }, 26*time.Hour+24*time.Minute
		a := ingestkafka.Assignment{Partition: 0}
		if c.waited > 0 {
			a.Since = now.Add(-c.waited)
		}
		ctx := context.Background()
		if err := d.Assign(ctx, []ingestkafka.Assignment{a}); err != nil {
			t.Fatal(err)
		}
		b := ingestkafka.Batch{Partition: 0, Events: bruteForceBatch("a@x", 3, now.Add(-c.recordAge), 0), Newest: now.Add(-c.recordAge)}
		for range 2 { // said once
			if _, err := d.Handle(ctx, b, nil); err != nil {
				t.Fatal(err)
			}
		}
		got := logs.FilterMessageSnippet("longer than redis keeps detector state").Len()
		if want := map[bool]int{true: 1}[c.warn]; got != want {
			t.Errorf("waited %s, records %s old: %d warnings, want %d (%v)", c.waited, c.recordAge, got, want, logs.All())
		}
	}
}
