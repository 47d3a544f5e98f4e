package redisstore

import (
	"context"
	"errors"
	"testing"

	"github.com/atod-project/atod/detector"
)

// twoStoresAnnaAndOrg returns two Stores on one new redis-server, as two
// instances, and the names of an account and of the organisation, both
// saved once by the first Store (one login each).
func twoStoresAnnaAndOrg(t *testing.T) (a, b *Store, users []string) {
	t.Helper()
	cfg := testConfig([]string{startRedis(t).addr()}, "atod:")
	a, b = newTestStore(t, cfg), newTestStore(t, cfg)
	users = []string{"anna@example.org", "org@example.org"}
	us, _, err := a.Load(context.Background(), users, nil)
	if err != nil {
		t.Fatal(err)
	}
	us[0].Logins, us[1].Logins = 1, 1
	if err := a.Save(context.Background(), us, nil); err != nil {
		t.Fatal(err)
	}
	return a, b, users
}

// setLogins has s, another instance, set name's login count.
func setLogins(t *testing.T, s *Store, name string, n int) {
	t.Helper()
	us, _, err := s.Load(context.Background(), []string{name}, nil)
	if err != nil {
		t.Fatal(err)
	}
	us[0].Logins = n
	if err := s.Save(context.Background(), us, nil); err != nil {
		t.Fatal(err)
	}
}

// A key a batch only reads (the organisation's state, mostly) stays in the
// cache once Save has checked it, so the next batch reads no Redis; and
// when another instance changes it meanwhile, the next Save that relies on
// it is refused as if it had written the key.
func TestReadOnlyKeyCheckedAndCached(t *testing.T) {
	a, b, users := twoStoresAnnaAndOrg(t)
	var mgets mgetCounter
	a.client.AddHook(&mgets)
	ctx := context.Background()
	// Both cached; a batch that changes only anna reads the org too.
	us, _, err := a.Load(ctx, users, nil)
	if err != nil {
		t.Fatal(err)
	}
	us[0].Logins++
	if err := a.Save(ctx, us[:1], nil); err != nil {
		t.Fatalf("save of anna, org only read: %v", err)
	}
	before := mgets.n.Load()
	us, _, err = a.Load(ctx, users, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := mgets.n.Load() - before; n != 0 || us[1].Logins != 1 || us[0].Logins != 2 {
		t.Fatalf("load after a save that only read the org: %d MGETs, logins %d and %d; want 0, 2 and 1",
			n, us[0].Logins, us[1].Logins)
	}

	// b changes the org; a's cached copy is now stale.
	setLogins(t, b, users[1], 10)
	us[0].Logins++
	if err := a.Save(ctx, us[:1], nil); !errors.Is(err, detector.ErrConflict) {
		t.Fatalf("save resting on a stale read of the org: %v; want a conflict", err)
	}
	// The rerun reads b's org from Redis, and anna as she was.
	us, _, err = a.Load(ctx, users, nil)
	if err != nil {
		t.Fatal(err)
	}
	if us[1].Logins != 10 || us[0].Logins != 2 {
		t.Fatalf("reload after the conflict: logins %d and %d; want 2 and 10", us[0].Logins, us[1].Logins)
	}
	us[0].Logins++
	if err := a.Save(ctx, us[:1], nil); err != nil {
		t.Fatalf("rerun: %v", err)
	}
}

// A batch dropped after its Load (the one run while a refused write was
// in flight) leaves no keys to check: the rerun of the batch before it
// reads other keys, and its Save must not be refused, again and again,
// over a key it never read that another instance changed meanwhile.
func TestDroppedLoadLeavesNoChecks(t *testing.T) {
	a, b, users := twoStoresAnnaAndOrg(t)
	ctx := context.Background()

	if _, _, err := a.Load(ctx, users[1:], nil); err != nil { // the batch later dropped
		t.Fatal(err)
	}
	setLogins(t, b, users[1], 10)
	us, _, err := a.Load(ctx, users[:1], nil) // the rerun, without the org
	if err != nil {
		t.Fatal(err)
	}
	us[0].Logins++
	if err := a.Save(ctx, us, nil); err != nil {
		t.Fatalf("save of a batch that did not read the org: %v", err)
	}
}

// A Save finds each state's key among the last Load's by walking its
// answer; states saved out of that order, or not loaded by this Store at
// all, are still written under their own keys, and only the keys left
// out are checked as read: another instance's change to one of those
// refuses the Save.
func TestSaveFindsKeysOutOfLoadOrder(t *testing.T) {
	a, b, users := twoStoresAnnaAndOrg(t)
	ctx := context.Background()
	names := append(users, "bert@example.org")
	us, _, err := a.Load(ctx, names, nil)
	if err != nil {
		t.Fatal(err)
	}
	// bert before anna, and a state this Store never handed out.
	us[2].Logins, us[0].Logins = 7, 5
	carl := &detector.UserState{User: "carl@example.org", Logins: 3}
	if err := a.Save(ctx, []*detector.UserState{us[2], us[0], carl}, nil); err != nil {
		t.Fatal(err)
	}
	got, _, err := b.Load(ctx, []string{"anna@example.org", "bert@example.org", "carl@example.org", "org@example.org"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{5, 7, 3, 1} {
		if got[i].Logins != want {
			t.Errorf("%s: %d logins, want %d", got[i].User, got[i].Logins, want)
		}
	}
	// The org was only read: b changes it, and a's next Save that read it
	// is refused.
	us, _, err = a.Load(ctx, names, nil)
	if err != nil {
		t.Fatal(err)
	}
	setLogins(t, b, "org@example.org", 9)
	us[2].Logins++
	if err := a.Save(ctx, []*detector.UserState{us[2], us[0]}, nil); !errors.Is(err, detector.ErrConflict) {
		t.Errorf("save after another instance changed a key only read: %v; want ErrConflict", err)
	}
}

// A state whose Rev is zero though its key exists (a state the rules
// replaced, or a copy made without it) is saved against the revision the
// Store loaded for the key, whether the Save finds it in load order or
// by name: expecting the key absent would refuse every such write.
func TestSaveOfAStateWithoutItsRevision(t *testing.T) {
	a, b, users := twoStoresAnnaAndOrg(t)
	ctx := context.Background()
	for _, outOfOrder := range []bool{false, true} {
		us, _, err := a.Load(ctx, users, nil)
		if err != nil {
			t.Fatal(err)
		}
		if us[0].Rev == 0 {
			t.Fatalf("%s loaded without a revision: the test needs a stored key", us[0].User)
		}
		fresh := &detector.UserState{User: us[0].User, Logins: 40}
		if outOfOrder {
			fresh.Logins = 41
		}
		save := []*detector.UserState{fresh}
		if !outOfOrder {
			// In load order: the Store's own object, its Rev cleared.
			us[0].Rev, us[0].Logins = 0, 40
			save = []*detector.UserState{us[0]}
		}
		if err := a.Save(ctx, save, nil); err != nil {
			t.Fatalf("out of order %v: %v", outOfOrder, err)
		}
		got, _, err := b.Load(ctx, []string{us[0].User}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got[0].Logins != save[0].Logins {
			t.Errorf("out of order %v: %d logins stored, want %d", outOfOrder, got[0].Logins, save[0].Logins)
		}
	}
}
