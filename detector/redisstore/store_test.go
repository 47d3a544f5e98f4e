package redisstore

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/storetest"
)

func TestConformance(t *testing.T) {
	srv := startRedis(t)
	var p prefixes
	storetest.Run(t, func(t *testing.T) detector.Store {
		return newTestStore(t, testConfig([]string{srv.addr()}, p.next(t.Name())))
	})
}

func TestClusterConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	addrs := startCluster(t)
	var p prefixes
	storetest.Run(t, func(t *testing.T) detector.Store {
		return newTestStore(t, testConfig(addrs, p.next(t.Name())))
	})
	// Replay's way: a write per window, one script call per key.
	t.Run("write-behind demo", func(t *testing.T) {
		events := storetest.DemoEvents(t)
		cfg := detector.DefaultConfig()
		want := storetest.Replay(t, cfg, detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention), events)
		got := storetest.Replay(t, cfg, writeBehind(newTestStore(t, testConfig(addrs, p.next(t.Name())))), events)
		storetest.CompareAlerts(t, got, want)
	})
}

// After a replay of the demo tenant every key has a TTL, no key names an
// account or an address, and no value names an account: an address's
// accounts and the organisation's spray attempts hold them sealed, so that
// a copy of the data does not say who signed in from where.
func TestKeysArePseudonymousAndExpire(t *testing.T) {
	srv := startRedis(t)
	store := newTestStore(t, testConfig([]string{srv.addr()}, "atod:"))
	events := storetest.DemoEvents(t)
	storetest.Replay(t, detector.DefaultConfig(), store, events)

	names := make(map[string]bool)
	accounts := make(map[string]bool)
	for _, e := range events {
		names[e.User] = true
		accounts[e.User] = true
		if e.IP.IsValid() {
			names[e.IP.String()] = true
		}
	}
	ctx := context.Background()
	keys, err := store.client.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 300 {
		t.Fatalf("only %d keys after the demo replay", len(keys))
	}
	for _, k := range keys {
		var kind string
		switch {
		case strings.HasPrefix(k, "atod:u:{"):
			kind = "u"
		case strings.HasPrefix(k, "atod:a:{"):
			kind = "a"
		default:
			t.Fatalf("unexpected key %q", k)
		}
		if len(k) != len("atod:u:{}")+16 || !strings.HasSuffix(k, "}") {
			t.Errorf("key %q is not prefix, kind and a 16-character hash tag", k)
		}
		for name := range names {
			if strings.Contains(k, name) {
				t.Fatalf("key %q contains %q", k, name)
			}
		}
		value, err := store.client.Get(ctx, k).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		for name := range accounts {
			if bytes.Contains(value, []byte(name)) {
				t.Fatalf("the value of %s names the account %q", k, name)
			}
		}
		ttl, err := store.client.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		max := store.userTTL
		if kind == "a" {
			max = store.addrTTL
		}
		if ttl <= 0 || ttl > max {
			t.Errorf("key %s has TTL %s, want up to %s", k, ttl, max)
		}
	}
}

func TestPlainKeysWhenAllowed(t *testing.T) {
	srv := startRedis(t)
	cfg := testConfig([]string{srv.addr()}, "atod:")
	cfg.AllowPlainKeys = true
	store, err := New(cfg, Options{UserRetention: time.Hour, AddrRetention: time.Hour,
		LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	ip := netip.MustParseAddr("198.51.100.9")
	us, as, err := store.Load(ctx, []string{"anna@example.org"}, []netip.Addr{ip})
	if err != nil {
		t.Fatal(err)
	}
	us[0].Seen, as[0].Seen = time.Now(), time.Now()
	if err := store.Save(ctx, us, as); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"atod:u:{anna@example.org}", "atod:a:{198.51.100.9}"} {
		if n, err := store.client.Exists(ctx, k).Result(); err != nil || n != 1 {
			t.Errorf("key %s: exists %d, %v", k, n, err)
		}
	}
}

// A Save over a state that another store changed since loading it is
// refused with ErrConflict, naming the key, and changes nothing.
func TestSaveConflict(t *testing.T) {
	srv := startRedis(t)
	cfg := testConfig([]string{srv.addr()}, "atod:")
	a, b := newTestStore(t, cfg), newTestStore(t, cfg)
	ctx := context.Background()
	ip := []netip.Addr{netip.MustParseAddr("198.51.100.9")}
	_, asA, err := a.Load(ctx, nil, ip)
	if err != nil {
		t.Fatal(err)
	}
	_, asB, err := b.Load(ctx, nil, ip)
	if err != nil {
		t.Fatal(err)
	}
	asB[0].AttackRule = "b"
	if err := b.Save(ctx, nil, asB); err != nil {
		t.Fatal(err)
	}
	asA[0].AttackRule = "a"
	err = a.Save(ctx, nil, asA)
	if !errors.Is(err, detector.ErrConflict) || !strings.Contains(err.Error(), a.keys.addr(ip[0])) {
		t.Fatalf("second save: %v, want a conflict naming the key", err)
	}
	_, got, err := a.Load(ctx, nil, ip)
	if err != nil || got[0].AttackRule != "b" || got[0].Rev != 1 {
		t.Fatalf("after the conflict: %+v, %v; want b's state at revision 1", got[0], err)
	}
	got[0].AttackRule = "a"
	if err := a.Save(ctx, nil, got); err != nil || got[0].Rev != 2 {
		t.Fatalf("save after reload: rev %d, %v", got[0].Rev, err)
	}
}

// Without a pseudonym key the store refuses to start; the message says how
// to make one.
func TestNeedsPseudonymKey(t *testing.T) {
	cfg := testConfig([]string{"127.0.0.1:6379"}, "atod:")
	_, err := New(cfg, Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err == nil || !strings.Contains(err.Error(), "redis.pseudonym_key_file") || !strings.Contains(err.Error(), "allow_plain_keys") {
		t.Fatalf("New without a key: %v", err)
	}
	_, err = New(cfg, Options{LookupEnv: func(k string) (string, bool) { return "short", k == EnvPseudonymKey }})
	if err == nil || !strings.Contains(err.Error(), "16") {
		t.Fatalf("New with a short key: %v", err)
	}
}

// An unreachable server gives errors that wrap ErrUnavailable.
func TestUnreachableIsUnavailable(t *testing.T) {
	needRedis(t)
	cfg := testConfig([]string{"127.0.0.1:" + strconv.Itoa(freePort(t))}, "atod:")
	cfg.DialTimeout = 200 * time.Millisecond
	store := newTestStore(t, cfg)
	_, _, err := store.Load(context.Background(), []string{"anna@example.org"}, nil)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Load from nowhere: %v", err)
	}
	if err := store.Ping(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ping of nowhere: %v", err)
	}
	store.Close()
	_, _, err = store.Load(context.Background(), []string{"anna@example.org"}, nil)
	if err == nil || errors.Is(err, ErrUnavailable) || !errors.Is(err, redis.ErrClosed) {
		t.Fatalf("Load after Close: %v, want a final error", err)
	}
}

// A load of more keys than one MGET takes (a partition catching up) reads
// every one of them, in order.
func TestLoadManyKeys(t *testing.T) {
	srv := startRedis(t)
	cfg := testConfig([]string{srv.addr()}, "many:")
	cfg.LocalCacheEntries = 0 // every Load reads Redis
	store := newTestStore(t, cfg)
	ctx := context.Background()
	const n = 2*maxGetKeys + 100
	names := make([]string, n)
	for i := range names {
		names[i] = "user" + strconv.Itoa(i) + "@example.org"
	}
	users, _, err := store.Load(ctx, names, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	var saved []*detector.UserState // every third; the others stay absent
	for i := 0; i < n; i += 3 {
		u := users[i]
		u.Seen, u.Logins = base.Add(time.Duration(i)*time.Second), i
		saved = append(saved, u)
	}
	if err := store.Save(ctx, saved, nil); err != nil {
		t.Fatal(err)
	}
	again := newTestStore(t, cfg)
	got, _, err := again.Load(ctx, names, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range got {
		want := 0
		if i%3 == 0 {
			want = i
		}
		if u.User != names[i] || u.Logins != want || (i%3 == 0) == (u.Rev == 0) {
			t.Fatalf("key %d: %s, logins %d, rev %d; want %s, logins %d", i, u.User, u.Logins, u.Rev, names[i], want)
		}
	}
}
