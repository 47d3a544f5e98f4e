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
		store := detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention)
		footprint(b, cfg, store, store.Len, func() {})
	}
}

// BenchmarkWriteBehindFootprint is the same figure for what a replay with
// Redis state holds in process memory (detector.WriteBehind, over a base
// store that keeps nothing): the decoded states, as the memory backend
// holds them, and what the write-behind keeps about each.
func BenchmarkWriteBehindFootprint(b *testing.B) {
	cfg := detector.DefaultConfig()
	for range b.N {
		wb := detector.NewWriteBehind(nullCommitter{}, 1<<20)
		wb.ExpireAfter(cfg.UserRetention, cfg.AddrRetention)
		footprint(b, cfg, wb, wb.Len, func() {
			if err := wb.Commit(context.Background()); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// footprint replays the demo tenant into store and reports the heap per
// account and per address it holds; settle runs after each replay step
// (what makes the store drop expired states).
func footprint(b *testing.B, cfg detector.Config, store detector.Store, count func() (users, addrs int), settle func()) {
	base := heap()
	events := DemoEvents(b)
	last := events[len(events)-1].Time
	Replay(b, cfg, store, events)
	settle()
	events = nil
	all := heap()
	users, addrs := count()

	eng, err := detector.NewEngine(cfg, store, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	late := enrich.Event{Event: ingest.Event{Time: last.Add(cfg.AddrRetention + time.Hour), User: "footprint@example.org",
		IP: netip.MustParseAddr("192.0.2.1"), Type: ingest.TypeLogin, Outcome: ingest.OutcomeSuccess}}
	if _, err := eng.Process(context.Background(), []enrich.Event{late}, nil); err != nil {
		b.Fatal(err)
	}
	settle()
	onlyUsers := heap()
	users2, addrs2 := count()
	if addrs2 > 1 || users2 < users {
		b.Fatalf("after the sweep %d accounts and %d addresses, want %d+ and 1", users2, addrs2, users)
	}
	b.ReportMetric(float64(onlyUsers-base)/float64(users2), "B/account")
	b.ReportMetric(float64(all-onlyUsers)/float64(addrs-addrs2), "B/address")
	b.ReportMetric(float64(users), "accounts")
	b.ReportMetric(float64(addrs), "addresses")
	runtime.KeepAlive(store)
}

// nullCommitter loads every state empty and writes nowhere.
type nullCommitter struct{}

func (nullCommitter) Load(_ context.Context, users []string, addrs []netip.Addr) ([]*detector.UserState, []*detector.AddrState, error) {
	us := make([]*detector.UserState, len(users))
	for i, u := range users {
		us[i] = &detector.UserState{User: u}
	}
	as := make([]*detector.AddrState, len(addrs))
	for i, a := range addrs {
		as[i] = &detector.AddrState{Addr: a}
	}
	return us, as, nil
}

func (nullCommitter) Save(context.Context, []*detector.UserState, []*detector.AddrState) error {
	return nil
}

func (nullCommitter) Commit(context.Context, []*detector.UserState, []*detector.AddrState, []*detector.UserState, []*detector.AddrState) (func(context.Context) error, error) {
	return func(context.Context) error { return nil }, nil
}

func heap() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
