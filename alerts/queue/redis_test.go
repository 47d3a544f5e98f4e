package queue

import (
	"context"
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
