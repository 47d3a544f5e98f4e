package queue

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/queue/redistest"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// The shared suite, on Redis in clear and sealed.
func TestRedis(t *testing.T) {
	srv := redistest.Start(t)
	n := 0
	for _, sealed := range []bool{false, true} {
		t.Run(fmt.Sprintf("sealed=%v", sealed), func(t *testing.T) {
			runSuite(t, func(t *testing.T) backend {
				c := newClock()
				n++
				cfg := DefaultRedisConfig()
				cfg.KeyPrefix = fmt.Sprintf("t%d:", n)
				client := redis.NewClient(&redis.Options{Addr: srv.Addr})
				t.Cleanup(func() { client.Close() })
				q, err := NewRedis(client, cfg, c.Now)
				if err != nil {
					t.Fatal(err)
				}
				if sealed {
					q.SealWith(testSecret)
				}
				if err := client.Ping(context.Background()).Err(); err != nil {
					t.Fatal(err)
				}
				return backend{queue: q, ledger: q, clock: c}
			})
		})
	}
}

// A sealed queue names no account anywhere in Redis, neither while a
// revocation job waits nor once it is done (its id stays for the
// retention), nor in the ledger's cooldown keys; and it still reads a job
// enqueued in clear by an atod from before sealing.
func TestRedisSealedNamesNoAccount(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer client.Close()
	q, err := NewRedis(client, DefaultRedisConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	q.SealWith(testSecret)
	const name = "anna@example.org"
	j := job(alerts.JobID("a1", alerts.KindRevoke, "graph", name))
	if _, err := q.Enqueue(ctx, j); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Admit(ctx, alerts.AdmitRequest{Decision: "a1", Tenant: "example.org", User: name, Now: time.Now(),
		Max: 10, Window: time.Hour, Cooldown: time.Hour}); err != nil {
		t.Fatal(err)
	}
	redistest.NoneNamed(t, client, name, "example.org")
	got, err := q.Claim(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != j.ID || got.User != name {
		t.Fatalf("claimed job %q for %q; want %q for %q", got.ID, got.User, j.ID, name)
	}
	if err := q.Done(ctx, got); err != nil {
		t.Fatal(err)
	}
	redistest.NoneNamed(t, client, name, "example.org")
	if again, err := q.Enqueue(ctx, j); err != nil || again {
		t.Errorf("enqueueing a done job again: stored %v, %v; want refused as a duplicate", again, err)
	}

	// A job in clear, as an atod without sealing left it.
	plain, err := NewRedis(client, DefaultRedisConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	old := job("old-job")
	if _, err := plain.Enqueue(ctx, old); err != nil {
		t.Fatal(err)
	}
	// The sealed queue claims it and settles it under its id.
	got, err = q.Claim(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != old.ID {
		t.Fatalf("claimed %q; want the job left in clear", got.ID)
	}
	if err := q.Extend(ctx, got, time.Minute); err != nil {
		t.Errorf("extending the job left in clear: %v", err)
	}
	if err := q.Done(ctx, got); err != nil {
		t.Errorf("settling the job left in clear: %v", err)
	}
	if n, err := q.Pending(ctx); err != nil || n != 0 {
		t.Errorf("%d jobs pending, %v; want none", n, err)
	}
}

// A job sealed under another pseudonym key (the key was changed while it
// waited) cannot be read by any worker: the first Claim that meets it
// settles it and says so, once, instead of leasing it again every lease
// period until its retention ends; the jobs behind it still flow.
func TestRedisUnreadableJobIsDroppedOnce(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer client.Close()
	newQueue := func(secret string) *Redis {
		q, err := NewRedis(client, DefaultRedisConfig(), nil)
		if err != nil {
			t.Fatal(err)
		}
		q.SealWith([]byte(secret))
		return q
	}
	old, cur := newQueue("0123456789abcdef0123456789abcdef"), newQueue("fedcba9876543210fedcba9876543210")
	lost := job(alerts.JobID("a1", alerts.KindRevoke, "graph", "anna@example.org"))
	if _, err := old.Enqueue(ctx, lost); err != nil {
		t.Fatal(err)
	}
	next := job(alerts.JobID("a2", alerts.KindRevoke, "graph", "bob@example.org"))
	if _, err := cur.Enqueue(ctx, next); err != nil {
		t.Fatal(err)
	}

	var claimed []string
	var unreadable []*alerts.UnreadableJobError
	for range 2 {
		j, err := cur.Claim(ctx, 50*time.Millisecond)
		var ue *alerts.UnreadableJobError
		switch {
		case errors.As(err, &ue):
			unreadable = append(unreadable, ue)
		case err != nil:
			t.Fatal(err)
		default:
			claimed = append(claimed, j.ID)
			if err := cur.Done(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(unreadable) != 1 || unreadable[0].Kind != alerts.KindRevoke || len(claimed) != 1 || claimed[0] != next.ID {
		t.Fatalf("claimed %v, unreadable %v; want %s and one unreadable revocation", claimed, unreadable, next.ID)
	}
	// Long past its lease, nothing comes back.
	time.Sleep(100 * time.Millisecond)
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if j, err := cur.Claim(wctx, 50*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("after the drop Claim gave %q, %v; want nothing until the deadline", j.ID, err)
	}
	// Its body, personal data, is gone; its name stays for the retention.
	state, err := client.HGet(ctx, cur.key("job", unreadable[0].Member), "state").Result()
	if err != nil || state != "done" {
		t.Errorf("dropped job's state %q, %v; want done", state, err)
	}
	if n, _ := client.HExists(ctx, cur.key("job", unreadable[0].Member), "job").Result(); n {
		t.Error("the dropped job's sealed body is still stored")
	}
}
