package queue

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/queue/redistest"
)

// A worker whose lease expired settles its job just after another worker
// popped it, before that one took it. The pop must then come to nothing:
// the job is either with the other worker or due again, never both, so it
// runs once at a time.
func TestRedisSettleBetweenPopAndTake(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer client.Close()
	c := newClock()
	q, err := NewRedis(client, DefaultRedisConfig(), c.Now)
	if err != nil {
		t.Fatal(err)
	}
	kind := alerts.KindRevoke
	keys := []string{q.key("due", kind), q.key("lease", kind), q.key("claims", kind)}
	pop := func(token string) string {
		t.Helper()
		res, err := popScript.Run(ctx, client, keys, ms(c.Now()), ms(c.Now().Add(time.Minute)), token, time.Hour.Milliseconds()).StringSlice()
		if err != nil {
			t.Fatal(err)
		}
		return res[0]
	}
	for _, settle := range []string{"retry", "extend"} {
		t.Run(settle, func(t *testing.T) {
			j := job("race-" + settle)
			if _, err := q.Enqueue(ctx, j); err != nil {
				t.Fatal(err)
			}
			a, err := q.Claim(ctx, time.Second, kind)
			if err != nil {
				t.Fatal(err)
			}
			c.Add(2 * time.Second) // a's lease expires
			id := pop("b-token")   // b pops the job back from a
			if id == "" {
				t.Fatal("b popped nothing")
			}
			switch settle { // a, unaware, settles before b takes
			case "retry":
				err = q.Retry(ctx, a, c.Now())
			case "extend":
				err = q.Extend(ctx, a, time.Minute)
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, ok, err := q.take(ctx, id, kind, "b-token"); err != nil || ok {
				t.Fatalf("b took the job after a settled it (ok %v, err %v): it would run twice", ok, err)
			}
			if settle == "retry" {
				// The job is due again, and the next claim gets it.
				cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
				got, err := q.Claim(cctx, time.Minute, kind)
				if err != nil || got.ID != j.ID {
					t.Fatalf("claim after the retry: %+v, %v", got, err)
				}
				if err := q.Done(ctx, got); err != nil {
					t.Fatal(err)
				}
			} else if err := q.Done(ctx, a); err != nil {
				t.Fatalf("a still holds the job it extended: %v", err)
			}
			if n, err := client.HLen(ctx, q.key("claims", kind)).Result(); err != nil || n != 0 {
				t.Errorf("claims left: %d, %v", n, err)
			}
		})
	}
}
