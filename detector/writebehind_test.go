package detector_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/storetest"
)

// committer is a detector.Committer in memory that keeps JSON copies of
// the states, checks revisions as Redis's compare-and-set does, and counts
// what it was asked to write.
type committer struct {
	mu     sync.Mutex
	users  map[string]stored
	addrs  map[netip.Addr]stored
	writes []int // states written, per send
	checks int   // states checked and not written, over all sends
	// beforeSend, when set, runs before each send's check.
	beforeSend func(c *committer)
}

type stored struct {
	rev  int64
	json []byte
}

func newCommitter() *committer {
	return &committer{users: make(map[string]stored), addrs: make(map[netip.Addr]stored)}
}

func (c *committer) Load(ctx context.Context, users []string, addrs []netip.Addr) ([]*detector.UserState, []*detector.AddrState, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	us := loadStored(c.users, users, func(u *detector.UserState, name string, rev int64) { u.User, u.Rev = name, rev })
	as := loadStored(c.addrs, addrs, func(a *detector.AddrState, ip netip.Addr, rev int64) { a.Addr, a.Rev = ip, rev })
	return us, as, nil
}

// loadStored decodes the state of each key, empty when none is stored, and
// sets its key and revision.
func loadStored[K comparable, S any](m map[K]stored, keys []K, set func(*S, K, int64)) []*S {
	out := make([]*S, len(keys))
	for i, k := range keys {
		out[i] = new(S)
		st, ok := m[k]
		if ok {
			mustUnmarshal(st.json, out[i])
		}
		set(out[i], k, st.rev)
	}
	return out
}

func (c *committer) Save(context.Context, []*detector.UserState, []*detector.AddrState) error {
	return errors.New("a WriteBehind's base store got a Save")
}

// pending is one state of a send: its key, the revision it expects and
// the value to write (nil: a check).
type pending struct {
	user   string
	addr   netip.Addr
	expect int64
	json   []byte
}

func (c *committer) Commit(_ context.Context, users []*detector.UserState, addrs []*detector.AddrState,
	readUsers []*detector.UserState, readAddrs []*detector.AddrState) (func(context.Context) error, error) {
	var ps []pending
	for _, u := range users {
		ps = append(ps, pending{user: u.User, expect: u.Rev, json: mustMarshal(u)})
		u.Rev++
	}
	for _, a := range addrs {
		ps = append(ps, pending{addr: a.Addr, expect: a.Rev, json: mustMarshal(a)})
		a.Rev++
	}
	for _, u := range readUsers {
		ps = append(ps, pending{user: u.User, expect: u.Rev})
	}
	for _, a := range readAddrs {
		ps = append(ps, pending{addr: a.Addr, expect: a.Rev})
	}
	return func(ctx context.Context) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.beforeSend != nil {
			c.beforeSend(c)
		}
		for _, p := range ps {
			cur := c.users[p.user].rev
			if p.user == "" {
				cur = c.addrs[p.addr].rev
			}
			if cur != p.expect {
				return fmt.Errorf("%s%v at revision %d, expected %d: %w", p.user, p.addr, cur, p.expect, detector.ErrConflict)
			}
		}
		written := 0
		for _, p := range ps {
			switch {
			case p.json == nil:
				c.checks++
			case p.user != "":
				c.users[p.user] = stored{p.expect + 1, p.json}
				written++
			default:
				c.addrs[p.addr] = stored{p.expect + 1, p.json}
				written++
			}
		}
		c.writes = append(c.writes, written)
		return ctx.Err()
	}, nil
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func mustUnmarshal(b []byte, v any) {
	if err := json.Unmarshal(b, v); err != nil {
		panic(err)
	}
}

// Small windows and a small bound on the states held: many writes, and
// states aged out and loaded again, give the memory store's alerts.
func TestWriteBehindConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) detector.Store {
		w := detector.NewWriteBehind(newCommitter(), 64)
		w.SetWindow(7, 5)
		cfg := detector.DefaultConfig()
		w.ExpireAfter(cfg.UserRetention, cfg.AddrRetention)
		return w
	})
}

// With a window that holds the whole demo tenant, each state is written
// once, at the end; with windows of 1,000 events, more often, but still
// less often than once per batch that touches it, which is what Save
// would cost. Either way every state reaches the base store.
func TestWriteBehindWritesOncePerWindow(t *testing.T) {
	events := storetest.DemoEvents(t)
	cfg := detector.DefaultConfig()
	want := storetest.Replay(t, cfg, detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention), events)

	whole := newCommitter()
	storetest.CompareAlerts(t, storetest.Replay(t, cfg, detector.NewWriteBehind(whole, 1<<20), events), want)
	keys := len(whole.users) + len(whole.addrs)
	if len(whole.writes) != 1 || whole.writes[0] != keys {
		t.Errorf("one window: writes %v, want one of all %d states", whole.writes, keys)
	}

	// A window ends at the end of a batch (512 events here).
	small := newCommitter()
	wb := detector.NewWriteBehind(small, 1<<20)
	wb.SetWindow(1000, 1<<20)
	storetest.CompareAlerts(t, storetest.Replay(t, cfg, wb, events), want)
	total := 0
	for _, n := range small.writes {
		total += n
	}
	if lo, hi := len(events)/(1000+512), len(events)/1000+1; len(small.writes) < lo || len(small.writes) > hi {
		t.Errorf("%d windows of 1,000 to 1,512 events written, want %d to %d", len(small.writes), lo, hi)
	}
	if total <= keys || total >= len(events) {
		t.Errorf("windows of 1,000 events wrote %d states; want more than the %d states, fewer than one an event", total, keys)
	}
	if len(small.users) != len(whole.users) || len(small.addrs) != len(whole.addrs) {
		t.Errorf("stored %d accounts and %d addresses, want %d and %d",
			len(small.users), len(small.addrs), len(whole.users), len(whole.addrs))
	}
}

// A state changed under the WriteBehind by another writer stops the run
// with ErrNotSoleWriter rather than overwriting it.
func TestWriteBehindStopsOnAnotherWriter(t *testing.T) {
	events := storetest.DemoEvents(t)
	c := newCommitter()
	c.beforeSend = func(c *committer) {
		if len(c.writes) == 1 { // after the first window's write
			// Another writer changes every account, the organisation's
			// among them, which each window reads.
			for k, s := range c.users {
				c.users[k] = stored{s.rev + 1, s.json}
			}
		}
	}
	wb := detector.NewWriteBehind(c, 1<<20)
	wb.SetWindow(1000, 1<<20)
	eng, err := detector.NewEngine(detector.DefaultConfig(), wb, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	p := detector.NewPipeline(eng, func(context.Context, detector.Alert) error { return nil })
	ctx := context.Background()
	for _, e := range events {
		if err = p.Push(ctx, e); err != nil {
			break
		}
	}
	if err == nil {
		err = p.Flush(ctx)
	}
	if !errors.Is(err, detector.ErrNotSoleWriter) || !errors.Is(err, detector.ErrConflict) {
		t.Fatalf("run ended with %v, want ErrNotSoleWriter", err)
	}
	if len(c.writes) != 1 {
		t.Errorf("%d writes landed, want only the first", len(c.writes))
	}
}

// States of the window in progress survive the ageing that a confirmed
// write sets off, and are written by the next one.
func TestWriteBehindAgeingKeepsTheOpenWindow(t *testing.T) {
	ctx := context.Background()
	c := newCommitter()
	wb := detector.NewWriteBehind(c, 2)
	us, _, err := wb.Load(ctx, []string{"a"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	us[0].Logins = 1
	if err := wb.Save(ctx, us, nil); err != nil {
		t.Fatal(err)
	}
	wait := wb.CommitAhead(ctx)
	// The next window runs while the write travels.
	us, _, err = wb.Load(ctx, []string{"b", "c", "d"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		u.Logins = 2
	}
	if err := wait(); err != nil { // ages: a, b, c and d are more than the bound
		t.Fatal(err)
	}
	if err := wb.Save(ctx, us, nil); err != nil {
		t.Fatal(err)
	}
	if wb.Dirty() != 3 {
		t.Fatalf("%d states to write after ageing, want b, c and d", wb.Dirty())
	}
	if err := wb.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"b", "c", "d"} {
		var u detector.UserState
		mustUnmarshal(c.users[name].json, &u)
		if u.Logins != 2 || c.users[name].rev != 1 {
			t.Errorf("%s stored at revision %d with %d logins, want 1 and 2", name, c.users[name].rev, u.Logins)
		}
	}
	if u, _ := wb.Len(); u > 4 {
		t.Errorf("%d states held, bound 2 (4 while a generation ages)", u)
	}
}

// A state loaded and not changed is checked, not written.
func TestWriteBehindChecksWhatItOnlyRead(t *testing.T) {
	ctx := context.Background()
	c := newCommitter()
	wb := detector.NewWriteBehind(c, 16)
	us, as, err := wb.Load(ctx, []string{"a", "b"}, []netip.Addr{netip.MustParseAddr("2001:db8::1")})
	if err != nil {
		t.Fatal(err)
	}
	if err := wb.Save(ctx, us[:1], nil); err != nil {
		t.Fatal(err)
	}
	if err := wb.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if len(c.writes) != 1 || c.writes[0] != 1 || c.checks != 2 {
		t.Fatalf("wrote %v and checked %d, want [1] and 2", c.writes, c.checks)
	}
	if _, ok := c.users["b"]; ok {
		t.Error("b, only read, was written")
	}
	// b changes under the WriteBehind: the next write that read it fails.
	c.users["b"] = stored{1, mustMarshal(&detector.UserState{User: "b"})}
	if _, _, err := wb.Load(ctx, []string{"a", "b"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := wb.Save(ctx, us[:1], as); err != nil {
		t.Fatal(err)
	}
	if err := wb.Commit(ctx); !errors.Is(err, detector.ErrConflict) {
		t.Fatalf("Commit after b changed = %v, want ErrConflict", err)
	}
}

// A state past its retention is dropped once a write is confirmed, and
// loaded back from the base store as it was.
func TestWriteBehindExpires(t *testing.T) {
	ctx := context.Background()
	c := newCommitter()
	wb := detector.NewWriteBehind(c, 1<<10)
	wb.ExpireAfter(time.Hour, time.Minute)
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	ip := netip.MustParseAddr("2001:db8::1")
	us, as, err := wb.Load(ctx, []string{"old", "new"}, []netip.Addr{ip})
	if err != nil {
		t.Fatal(err)
	}
	us[0].Seen, us[0].Logins = t0, 3
	us[1].Seen = t0.Add(90 * time.Minute)
	as[0].Seen = t0.Add(88 * time.Minute) // two minutes before the newest: past its minute
	if err := wb.Save(ctx, us, as); err != nil {
		t.Fatal(err)
	}
	if err := wb.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if u, a := wb.Len(); u != 1 || a != 0 {
		t.Fatalf("%d accounts and %d addresses held after the write, want only the account seen within the hour", u, a)
	}
	old := us[0] // Load reuses the slice
	back, _, err := wb.Load(ctx, []string{"old"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if back[0] == old || back[0].Logins != 3 || !back[0].Seen.Equal(t0) || back[0].Rev != 1 {
		t.Fatalf("expired account loaded back as %+v (same object %v)", *back[0], back[0] == old)
	}
}

// A small bound on the states held makes short windows: the states of a
// window stay held until its write.
func TestWriteBehindSmallBoundShortWindows(t *testing.T) {
	events := storetest.DemoEvents(t)
	cfg := detector.DefaultConfig()
	want := storetest.Replay(t, cfg, detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention), events)
	c := newCommitter()
	wb := detector.NewWriteBehind(c, 200)
	storetest.CompareAlerts(t, storetest.Replay(t, cfg, wb, events), want)
	if len(c.writes) < 2 {
		t.Errorf("%d writes with room for 200 states, want a window per batch or so", len(c.writes))
	}
	if u, a := wb.Len(); u+a > 200+2*512 {
		t.Errorf("%d states held, bound 200 and a batch's", u+a)
	}
}

// Loads large enough to look their keys up in two halves at once hand out
// what one goroutine would: states held in either generation (the old ones
// moved to the young), and those not held loaded from the store.
func TestWriteBehindLoadsInHalves(t *testing.T) {
	ctx := context.Background()
	c := newCommitter()
	wb := detector.NewWriteBehind(c, 400) // a generation of 200 states
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	names := make([]string, 450)
	ips := make([]netip.Addr, 450)
	for i := range names {
		names[i] = fmt.Sprintf("user%d@example.org", i)
		ips[i] = netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)})
	}
	window := func(lo, hi int) ([]*detector.UserState, []*detector.AddrState) {
		t.Helper()
		us, as, err := wb.Load(ctx, names[lo:hi], ips[lo:hi])
		if err != nil {
			t.Fatal(err)
		}
		for j, u := range us {
			i := lo + j
			if u.User != names[i] || as[j].Addr != ips[i] {
				t.Fatalf("state %d is %s at %s, want %s at %s", i, u.User, as[j].Addr, names[i], ips[i])
			}
			if u.Logins == 0 {
				u.Logins, as[j].Seen = i+1, t0.Add(time.Duration(i)*time.Minute)
			}
		}
		if err := wb.Save(ctx, us, as); err != nil {
			t.Fatal(err)
		}
		if err := wb.Commit(ctx); err != nil { // ages the generations
			t.Fatal(err)
		}
		return slices.Clone(us), slices.Clone(as)
	}
	first, firstAddrs := window(0, 300)
	second, secondAddrs := window(150, 450) // 150 held, old; 150 new
	for j := range 150 {
		if second[j] != first[150+j] || secondAddrs[j] != firstAddrs[150+j] {
			t.Fatalf("state %d was held and is loaded anew", 150+j)
		}
	}
	for i, name := range names {
		want := int64(1)
		if i >= 150 && i < 300 {
			want = 2
		}
		if rev := c.users[name].rev; rev != want {
			t.Fatalf("%s stored at revision %d, want %d", name, rev, want)
		}
	}
	third, _ := window(0, 300) // 0-149 were dropped when the second window aged
	for i, u := range third {
		if (i < 150) == (u == first[i]) || u.Logins != i+1 {
			t.Fatalf("state %d: held %v, %d logins", i, u == first[i], u.Logins)
		}
	}
}
