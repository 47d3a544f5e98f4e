package detector

import (
	"context"
	"reflect"
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
