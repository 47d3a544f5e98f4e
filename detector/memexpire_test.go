package detector

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"
)

// A state a sweep expired loads empty even before memory is freed, as it
// did when the sweep deleted it at once.
func TestMemoryStoreExpiresBeforeFreeing(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	store := NewMemoryStore(4*time.Hour, 4*time.Hour)
	touch := func(user string, at time.Duration) *UserState {
		t.Helper()
		us, _, err := store.Load(ctx, []string{user}, nil)
		if err != nil {
			t.Fatal(err)
		}
		u := us[0]
		u.Seen, u.Logins = t0.Add(at), u.Logins+1
		if err := store.Save(ctx, us, nil); err != nil {
			t.Fatal(err)
		}
		return u
	}
	touch("x", 0)                         // a sweep, which frees memory
	touch("a", 10*time.Minute)            // no sweep
	touch("c", 4*time.Hour+5*time.Minute) // a sweep that frees x; a is alive
	if n, _ := store.Len(); n != 2 {
		t.Fatalf("%d accounts after the first retention, want a and c", n)
	}
	touch("d", 5*time.Hour+10*time.Minute) // a sweep that expires a but frees nothing
	if n, _ := store.Len(); n != 2 {
		t.Errorf("%d accounts after a expired, want c and d", n)
	}
	us, _, err := store.Load(ctx, []string{"a", "c"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*us[0], UserState{User: "a"}) {
		t.Errorf("expired account loaded as %+v", *us[0])
	}
	if us[1].Logins != 1 {
		t.Errorf("live account lost its state: %+v", *us[1])
	}
}

// A Load large enough to look its keys up in two halves at once (see
// lookupHalvesMin) hands out what one goroutine would: stored states, those a
// sweep expired as empty ones, and new keys added.
func TestMemoryStoreLoadsInHalves(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	store := NewMemoryStore(4*time.Hour, 4*time.Hour)
	const n, more = 300, 50
	if 2*n < lookupHalvesMin {
		t.Fatalf("%d keys are looked up by one goroutine", 2*n)
	}
	names := make([]string, n+more)
	ips := make([]netip.Addr, n+more)
	for i := range names {
		names[i] = fmt.Sprintf("user%d@example.org", i)
		ips[i] = netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)})
	}
	us, as, err := store.Load(ctx, names[:n], ips[:n])
	if err != nil {
		t.Fatal(err)
	}
	// Even keys are last seen at t0, odd ones three hours later.
	for i := range n {
		at := t0.Add(time.Duration(i%2) * 3 * time.Hour)
		us[i].Seen, us[i].Logins = at, i+1
		as[i].Seen = at
	}
	if err := store.Save(ctx, us, as); err != nil {
		t.Fatal(err)
	}
	kept := slices.Clone(us)
	// A sweep at t0+4h05 expires the even keys.
	late, _, err := store.Load(ctx, []string{"sweeper"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	late[0].Seen = t0.Add(4*time.Hour + 5*time.Minute)
	if err := store.Save(ctx, late, nil); err != nil {
		t.Fatal(err)
	}
	if nu, na := store.Len(); nu != n/2+1 || na != n/2 {
		t.Fatalf("after the sweep the store holds %d accounts and %d addresses, want %d and %d", nu, na, n/2+1, n/2)
	}

	us, as, err = store.Load(ctx, names, ips)
	if err != nil {
		t.Fatal(err)
	}
	for i := range names {
		u, a := us[i], as[i]
		switch {
		case i >= n || i%2 == 0: // new or expired
			if !reflect.DeepEqual(*u, UserState{User: names[i]}) || !reflect.DeepEqual(*a, AddrState{Addr: ips[i]}) {
				t.Fatalf("key %d: %+v, %+v; want empty states", i, *u, *a)
			}
		default:
			if u != kept[i] || u.Logins != i+1 || !a.Seen.Equal(t0.Add(3*time.Hour)) {
				t.Fatalf("key %d: %+v, %+v; want the state saved", i, *u, *a)
			}
		}
	}
	if nu, na := store.Len(); nu != n+more+1 || na != n+more {
		t.Fatalf("store holds %d accounts and %d addresses, want %d and %d", nu, na, n+more+1, n+more)
	}
}
