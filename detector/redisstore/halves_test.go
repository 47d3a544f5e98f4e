package redisstore

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/atod-project/atod/detector"
)

// A batch large enough to be decoded and encoded in halves (see halvesMin)
// saves and loads every state as one goroutine would, with the halves'
// boundary inside the accounts and an undecodable address in the second
// half dropped alone.
func TestManyStatesInHalves(t *testing.T) {
	const nu, na = 700, 500 // the halves meet at state 600, an account
	if nu+na < halvesMin || nu <= (nu+na)/2 {
		t.Fatalf("%d accounts and %d addresses do not put the halves' boundary among the accounts", nu, na)
	}
	srv := startRedis(t)
	cfg := testConfig([]string{srv.addr()}, "halves:")
	cfg.LocalCacheEntries = 0 // every Load reads Redis and decodes
	ctx := context.Background()
	names := make([]string, nu)
	for i := range names {
		names[i] = fmt.Sprintf("user%d@example.org", i)
	}
	ips := make([]netip.Addr, na)
	for i := range ips {
		if i%2 == 0 {
			ips[i] = netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)})
		} else {
			ips[i] = netip.MustParseAddr(fmt.Sprintf("2001:db8::%x", i))
		}
	}
	base := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	store := newTestStore(t, cfg)
	users, addrs, err := store.Load(ctx, names, ips)
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range users {
		u.Seen, u.Logins = base.Add(time.Duration(i)*time.Second), i+1
		u.Countries = []detector.Habit{{Key: "DE", Num: uint64(i)}}
	}
	for i, a := range addrs {
		a.Seen = base.Add(time.Duration(i) * time.Minute)
		a.Users = []detector.AddrUser{{User: names[i%nu], Last: a.Seen, Failures: i + 1, EventID: fmt.Sprint("ev-", i)}}
	}
	if err := store.Save(ctx, users, addrs); err != nil {
		t.Fatal(err)
	}
	const bad = na - 3 // an address in the second half
	if err := store.client.Set(ctx, store.keys.addr(ips[bad]), "\x05\xffnot a state", 0).Err(); err != nil {
		t.Fatal(err)
	}

	core, logs := observer.New(zap.WarnLevel)
	again, err := New(cfg, Options{UserRetention: 30 * 24 * time.Hour, AddrRetention: 24 * time.Hour,
		LookupEnv: testSecret, Log: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { again.Close() })
	gotUsers, gotAddrs, err := again.Load(ctx, names, ips)
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range gotUsers {
		if u.User != names[i] || u.Logins != i+1 || !u.Seen.Equal(users[i].Seen) ||
			len(u.Countries) != 1 || u.Countries[0].Num != uint64(i) || u.Rev != 1 {
			t.Fatalf("account %d: %+v", i, u)
		}
	}
	for i, a := range gotAddrs {
		if i == bad {
			if a.Addr != ips[i] || len(a.Users) != 0 || !a.Seen.IsZero() {
				t.Fatalf("undecodable address %d: %+v, want an empty state", i, a)
			}
			continue
		}
		if a.Addr != ips[i] || !a.Seen.Equal(addrs[i].Seen) || a.Rev != 1 || len(a.Users) != 1 ||
			a.Users[0].User != names[i%nu] || a.Users[0].Failures != i+1 || a.Users[0].EventID != fmt.Sprint("ev-", i) {
			t.Fatalf("address %d: %+v", i, a)
		}
	}
	if n := logs.FilterMessage("dropping undecodable address state").Len(); n != 1 {
		t.Fatalf("%d warnings about undecodable addresses, want 1: %v", n, logs.All())
	}

	// The second store saves the batch again, in halves too: every key
	// moves to its next revision, the dropped one's from the 5 it held.
	for _, u := range gotUsers {
		u.Logins++
	}
	if err := again.Save(ctx, gotUsers, gotAddrs); err != nil {
		t.Fatal(err)
	}
	third := newTestStore(t, cfg)
	u3, a3, err := third.Load(ctx, names, ips)
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range u3 {
		if u.Rev != 2 || u.Logins != i+2 {
			t.Fatalf("account %d after the second save: rev %d, logins %d", i, u.Rev, u.Logins)
		}
	}
	for i, a := range a3 {
		want := int64(2)
		if i == bad {
			want = 6
		}
		if a.Rev != want {
			t.Fatalf("address %d after the second save: rev %d, want %d", i, a.Rev, want)
		}
	}
}
