package queue

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/queue/redistest"
	"github.com/atod-project/atod/detector"
)

// Every key atod writes to Redis must expire ("expire all state"), so that
// a queue left behind (atod stopped for good, hooks.queue.key_prefix
// changed, a decommissioned tenant) does not keep revocation job ids for
// ever. The due, wake, lease and claims keys had no time to live: once a
// job's hash expired, its pseudonymous id stayed listed for ever.
func TestQueueKeysAllExpire(t *testing.T) {
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer client.Close()
	q, err := NewRedis(client, DefaultRedisConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	q.SealWith([]byte("0123456789abcdef0123456789abcdef"))
	ctx := context.Background()
	a := detector.Alert{ID: "757d830f2f2b439cbf3d7c51cac1a113", Rule: "compromise_after_attack", User: "staff03@example.org",
		IP: "95.24.0.77", Action: detector.ActionRevoke}
	j := alerts.Job{ID: alerts.JobID(a.ID, alerts.KindRevoke, "graph", a.User), Kind: alerts.KindRevoke, Target: "graph",
		User: a.User, Alert: a, Decided: time.Now()}
	allExpire := func(step string) {
		t.Helper()
		keys, err := client.Keys(ctx, "*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			ttl, err := client.PTTL(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			if ttl < 0 {
				t.Errorf("after %s: key %s (%s) has no TTL (PTTL %d): it is never expired", step, k, client.Type(ctx, k).Val(), ttl)
			}
		}
	}
	if _, err := q.Enqueue(ctx, j); err != nil {
		t.Fatal(err)
	}
	allExpire("enqueue")
	// Each step's writes, one at a time: a key's time to live is gone
	// once it is deleted (emptied) and written again without one.
	for _, step := range []string{"claim", "extend", "retry", "claim again", "done"} {
		switch step {
		case "claim", "claim again":
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			j, err = q.Claim(cctx, time.Minute, alerts.KindRevoke)
			cancel()
		case "extend":
			err = q.Extend(ctx, j, 2*time.Minute)
		case "retry":
			err = q.Retry(ctx, j, time.Now())
		case "done":
			err = q.Done(ctx, j)
		}
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		allExpire(step)
	}
}
