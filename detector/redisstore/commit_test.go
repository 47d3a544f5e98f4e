package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/storetest"
)

// writeBehind returns a WriteBehind over store with small windows and a
// small bound on the states held, so that a test replay writes often and
// loads aged states back from Redis.
func writeBehind(store detector.Committer) *detector.WriteBehind {
	wb := detector.NewWriteBehind(store, 256)
	wb.SetWindow(700, 300)
	cfg := detector.DefaultConfig()
	wb.ExpireAfter(cfg.UserRetention, cfg.AddrRetention)
	return wb
}

// Replay's way with Redis passes the suite: every alert as with memory.
func TestWriteBehindConformance(t *testing.T) {
	srv := startRedis(t)
	var p prefixes
	storetest.Run(t, func(t *testing.T) detector.Store {
		return writeBehind(newTestStore(t, testConfig([]string{srv.addr()}, p.next(t.Name()))))
	})
}

// What a WriteBehind wrote, a new one over a new Store loads back equal,
// with every key under a TTL; a write of more states than one script call
// takes lands whole.
func TestCommitRoundTrip(t *testing.T) {
	srv := startRedis(t)
	cfg := testConfig([]string{srv.addr()}, "rt:")
	ctx := context.Background()
	const n = 5 * maxScriptKeys / 2 // two encoders, several script calls
	users := make([]string, n)
	addrs := make([]netip.Addr, n)
	for i := range n {
		users[i] = fmt.Sprintf("user%d@example.org", i)
		addrs[i] = netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)})
	}
	wb := detector.NewWriteBehind(newTestStore(t, cfg), 1<<20)
	us, as, err := wb.Load(ctx, users, addrs)
	if err != nil {
		t.Fatal(err)
	}
	wantU, wantA := make([]detector.UserState, n), make([]detector.AddrState, n)
	now := time.Now().UTC().Truncate(time.Second) // not yet expired
	for i := range n {
		storetest.Fill(rand.New(rand.NewPCG(uint64(i), 21)), us[i])
		us[i].User, us[i].Rev, us[i].Seen = users[i], 0, now
		storetest.Fill(rand.New(rand.NewPCG(uint64(i), 22)), as[i])
		as[i].Addr, as[i].Rev, as[i].Seen = addrs[i], 0, now
	}
	if err := wb.Save(ctx, us, as); err != nil {
		t.Fatal(err)
	}
	if err := wb.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		wantU[i], wantA[i] = *us[i], *as[i]
	}

	fresh := detector.NewWriteBehind(newTestStore(t, cfg), 1<<20)
	got, gotA, err := fresh.Load(ctx, users, addrs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if !reflect.DeepEqual(*got[i], wantU[i]) || got[i].Rev != 1 {
			t.Fatalf("account %d loaded as\n%+v\nwrote\n%+v", i, *got[i], wantU[i])
		}
		if !reflect.DeepEqual(*gotA[i], wantA[i]) {
			t.Fatalf("address %d loaded as\n%+v\nwrote\n%+v", i, *gotA[i], wantA[i])
		}
	}
	client := redis.NewClient(&redis.Options{Addr: srv.addr()})
	defer client.Close()
	keys, err := client.Keys(ctx, "rt:*").Result()
	if err != nil || len(keys) != 2*n {
		t.Fatalf("%d keys (%v), want %d", len(keys), err, 2*n)
	}
	for _, k := range keys[:10] {
		if ttl := client.PTTL(ctx, k).Val(); ttl <= 0 {
			t.Errorf("key %s has no TTL (%v)", k, ttl)
		}
	}
}

// A key written by another writer since the WriteBehind loaded it, one it
// only read included, refuses the write.
func TestCommitRefusedAfterAnotherWriter(t *testing.T) {
	srv := startRedis(t)
	cfg := testConfig([]string{srv.addr()}, "ow:")
	ctx := context.Background()
	other := newTestStore(t, cfg)
	for _, onlyRead := range []bool{false, true} {
		t.Run(fmt.Sprintf("only read %v", onlyRead), func(t *testing.T) {
			name := fmt.Sprintf("shared-%v@example.org", onlyRead)
			wb := detector.NewWriteBehind(newTestStore(t, cfg), 64)
			us, _, err := wb.Load(ctx, []string{name, "mine@example.org"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ous, _, err := other.Load(ctx, []string{name}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ous[0].Logins = 7
			if err := other.Save(ctx, ous, nil); err != nil {
				t.Fatal(err)
			}
			save := us
			if onlyRead {
				save = us[1:]
			}
			for _, u := range save {
				u.Logins = 1
			}
			if err := wb.Save(ctx, save, nil); err != nil {
				t.Fatal(err)
			}
			if err := wb.Commit(ctx); !errors.Is(err, detector.ErrConflict) {
				t.Fatalf("Commit = %v, want ErrConflict", err)
			}
			back, _, err := other.Load(ctx, []string{name}, nil)
			if err != nil || back[0].Logins != 7 {
				t.Fatalf("the other writer's state became %+v (%v)", back, err)
			}
		})
	}
}

// Killing redis-server twice during a replay with write-behind and
// restarting it from its append-only file changes no alert: once before a
// load reaches it, once after a window's write was applied but before the
// reply came back. The repeated write finds its own values and counts them
// as done.
func TestKillAndRestartMidWriteBehind(t *testing.T) {
	srv := startRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	store := newTestStore(t, testConfig([]string{srv.addr()}, "atod:"))
	retrier := NewRetrier(store, zap.NewNop(), 10*time.Millisecond, 100*time.Millisecond)
	var killedAfterWrite atomic.Bool
	waitRestarts := twoOutages(srv, store, 2, func() { killedAfterWrite.Store(true) }, func() {})

	events := storetest.DemoEvents(t)
	cfg := detector.DefaultConfig()
	got := storetest.Replay(t, cfg, writeBehind(retrier), events)
	waitRestarts(t)
	if !killedAfterWrite.Load() {
		t.Fatal("no second window was written")
	}
	want := storetest.Replay(t, cfg, detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention), events)
	storetest.CompareAlerts(t, got, want)
}
