package alerts_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/queue"
	"github.com/atod-project/atod/alerts/queue/redistest"
)

// redisQueue opens a queue of its own client on srv, as a new atod
// process would.
func redisQueue(t *testing.T, srv *redistest.Server, prefix string) *queue.Redis {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { c.Close() })
	cfg := queue.DefaultRedisConfig()
	cfg.KeyPrefix, cfg.MaxWait = prefix, 50*time.Millisecond
	q, err := queue.NewRedis(c, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestRestartWithQueuedWork(t *testing.T) {
	srv := redistest.Start(t)
	var up atomic.Bool
	p := newProvider(t, func(_ int64, w http.ResponseWriter) bool {
		if !up.Load() {
			w.WriteHeader(http.StatusBadGateway)
			return true
		}
		return false
	})
	au := &audits{}

	// First life: the provider is down; atod shuts down with the work
	// still queued.
	q1 := redisQueue(t, srv, "restart:")
	d, stop := start(t, setup{queue: q1, ledger: q1, audit: au, hooks: map[string]alerts.Revoker{"idp": p.revoker(t)}})
	notify(t, d, revokeAlert("r1", "anna@example.org"))
	notify(t, d, revokeAlert("r2", "bob@example.org"))
	waitFor(t, "failed attempts", func() bool { return au.count(alerts.AuditRevoke, alerts.OutcomeRetrying, "") >= 2 })
	stop()
	if n, err := q1.Pending(context.Background()); err != nil || n != 2 {
		t.Fatalf("pending after shutdown: %d %v", n, err)
	}

	// A crashed worker: claims a job and never settles it.
	q2 := redisQueue(t, srv, "restart:")
	if _, err := q2.Claim(context.Background(), 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}

	// Second life: a new process, the provider back.
	up.Store(true)
	q3 := redisQueue(t, srv, "restart:")
	d3, _ := start(t, setup{queue: q3, ledger: q3, audit: au, hooks: map[string]alerts.Revoker{"idp": p.revoker(t)}})
	waitFor(t, "both revocations", func() bool { return p.total() == 2 })
	waitFor(t, "queue to settle", func() bool { n, _ := q3.Pending(context.Background()); return n == 0 })
	// The same decisions arriving again (a replayed offset) change nothing.
	notify(t, d3, revokeAlert("r1", "anna@example.org"))
	notify(t, d3, revokeAlert("r2", "bob@example.org"))
	if p.revocations("anna@example.org") != 1 || p.revocations("bob@example.org") != 1 {
		t.Fatalf("revocations %v\n%s", p.revoked, au)
	}
	if n, _ := q3.Pending(context.Background()); n != 0 {
		t.Fatalf("%d jobs queued again for decisions already carried out", n)
	}
}

func TestTwoInstancesRevokeOnce(t *testing.T) {
	srv := redistest.Start(t)
	p := newProvider(t, nil)
	au := &audits{}
	var ds []*alerts.Dispatcher
	for range 2 {
		q := redisQueue(t, srv, "pair:")
		d, _ := start(t, setup{queue: q, ledger: q, audit: au, hooks: map[string]alerts.Revoker{"idp": p.revoker(t)},
			limits: alerts.LimitsConfig{MaxRevocations: 3, Window: time.Hour, Cooldown: time.Hour}})
		ds = append(ds, d)
	}
	users := []string{"a", "b", "c", "d", "e"}
	done := make(chan struct{})
	for _, d := range ds {
		go func() {
			defer func() { done <- struct{}{} }()
			for i, u := range users {
				notify(t, d, revokeAlert("x"+users[i], u+"@example.org"))
			}
		}()
	}
	<-done
	<-done
	waitFor(t, "revocations", func() bool { return au.count(alerts.AuditRevoke, alerts.OutcomeDone, "") == 3 })
	waitFor(t, "skips", func() bool { return au.count(alerts.AuditDecision, alerts.OutcomeSkipped, alerts.ReasonRateLimit) >= 2 })
	// Both instances saw every decision; the shared limit admitted three
	// and each of those ran once.
	if p.total() != 3 {
		t.Fatalf("provider revoked %v, want 3 in all\n%s", p.revoked, au)
	}
	for u, n := range p.revoked {
		if n != 1 {
			t.Errorf("%s revoked %d times", u, n)
		}
	}
}

func redisBenchQueue(b *testing.B, srv *redistest.Server) *queue.Redis {
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	b.Cleanup(func() { c.Close() })
	q, err := queue.NewRedis(c, queue.DefaultRedisConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	return q
}
