package storetest

import (
	"context"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
)

// BenchmarkMemoryStoreFootprint reports what the memory backend holds per
// tracked account and per tracked address, in Go heap bytes, after
// replaying the demo tenant: the heap after a collection with the store
// alive and the events dropped (so that strings a state keeps pinned into
// its event's memory count), then again after an event a day and an hour
// later has let the store expire every address but kept the accounts.
// BenchmarkRedisMemory (detector/redisstore) is the same figure for Redis.
//
//	go test ./detector/storetest -run '^$' -bench Footprint -benchtime 3x
func BenchmarkMemoryStoreFootprint(b *testing.B) {
	cfg := detector.DefaultConfig()
	for range b.N {
		base := heap()
		events := DemoEvents(b)
		last := events[len(events)-1].Time
		store := detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention)
		Replay(b, cfg, store, events)
		events = nil
		all := heap()
		users, addrs := store.Len()

		eng, err := detector.NewEngine(cfg, store, zap.NewNop())
		if err != nil {
			b.Fatal(err)
		}
		late := enrich.Event{Event: ingest.Event{Time: last.Add(cfg.AddrRetention + time.Hour), User: "footprint@example.org",
			IP: netip.MustParseAddr("192.0.2.1"), Type: ingest.TypeLogin, Outcome: ingest.OutcomeSuccess}}
		if _, err := eng.Process(context.Background(), []enrich.Event{late}, nil); err != nil {
			b.Fatal(err)
		}
		onlyUsers := heap()
		users2, addrs2 := store.Len()
		if addrs2 > 1 || users2 < users {
			b.Fatalf("after the sweep %d accounts and %d addresses, want %d+ and 1", users2, addrs2, users)
		}
		b.ReportMetric(float64(onlyUsers-base)/float64(users2), "B/account")
		b.ReportMetric(float64(all-onlyUsers)/float64(addrs-addrs2), "B/address")
		b.ReportMetric(float64(users), "accounts")
		b.ReportMetric(float64(addrs), "addresses")
		runtime.KeepAlive(store)
	}
}

func heap() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
