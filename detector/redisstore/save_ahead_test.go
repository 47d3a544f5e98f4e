package redisstore

import (
	"context"
	"io"
	"net/netip"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/atod-project/atod/detector"
)

// A write sent ahead lands but its reply is lost. The batch run meanwhile
// loads the key again, after the failure is known, and is dropped; the
// rerun's Load must still undo the write, or the rerun counts the batch's
// events a second time (seen once in CI as an organisation counting some
// accounts twice in TestKillAndRestartMidReplay).
func TestSaveAheadLostReplyTwoLoads(t *testing.T) {
	srv := startRedis(t)
	store := newTestStore(t, testConfig([]string{srv.addr()}, "ahead:"))
	var lose bool
	store.client.AddHook(&opHook{around: func(op string, _ int64, send func() error, cmds []redis.Cmder) error {
		if op != "save" || !lose {
			return send()
		}
		if err := send(); err != nil {
			return err
		}
		for _, c := range cmds {
			c.SetErr(io.ErrUnexpectedEOF)
		}
		return io.ErrUnexpectedEOF
	}})
	ctx := context.Background()
	users := []string{"anna@example.org"}
	load := func() *detector.UserState {
		t.Helper()
		us, _, err := store.Load(ctx, users, []netip.Addr{})
		if err != nil {
			t.Fatal(err)
		}
		return us[0]
	}
	u := load()
	u.Logins = 1
	if err := store.Save(ctx, []*detector.UserState{u}, nil); err != nil {
		t.Fatal(err)
	}

	u = load() // the batch: from the cache
	u.Logins = 2
	lose = true
	wait := store.SaveAhead(ctx, []*detector.UserState{u}, nil)
	if err := wait(); err == nil {
		t.Fatal("the lost reply was not reported")
	}
	lose = false
	if got := load().Logins; got != 1 { // the batch run ahead, dropped
		t.Errorf("after the lost write, a load gave %d logins, want the 1 from before it", got)
	}
	rerun := load()
	if rerun.Logins != 1 {
		t.Fatalf("the rerun loaded %d logins, want the 1 from before the lost write", rerun.Logins)
	}
	rerun.Logins = 2
	if err := store.Save(ctx, []*detector.UserState{rerun}, nil); err != nil {
		t.Fatal(err)
	}
	if got := load().Logins; got != 2 {
		t.Errorf("after the rerun's save, %d logins, want 2", got)
	}
}
