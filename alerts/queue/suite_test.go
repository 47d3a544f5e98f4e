package queue

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/detector"
)

// backend is one implementation under the shared suite, with a clock the
// test moves.
type backend struct {
	queue  alerts.Queue
	ledger alerts.Ledger
	clock  *clock
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Millisecond)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func job(id string) alerts.Job {
	return alerts.Job{ID: id, Kind: alerts.KindRevoke, Target: "graph", User: "anna@example.org",
		Alert: detector.Alert{ID: "a1", Rule: "compromise_after_attack", Action: detector.ActionRevoke}}
}

// runSuite runs the contract of alerts.Queue and alerts.Ledger against
// the backends newBackend makes (a fresh, empty one per call).
func runSuite(t *testing.T, newBackend func(t *testing.T) backend) {
	t.Run("EnqueueIsIdempotent", func(t *testing.T) {
		b := newBackend(t)
		ctx := context.Background()
		for i, want := range []bool{true, false} {
			added, err := b.queue.Enqueue(ctx, job("j1"))
			if err != nil || added != want {
				t.Fatalf("enqueue %d: added=%v err=%v, want %v", i, added, err, want)
			}
		}
		j := claim(t, b.queue)
		if err := b.queue.Done(ctx, j); err != nil {
			t.Fatal(err)
		}
		if added, err := b.queue.Enqueue(ctx, job("j1")); err != nil || added {
			t.Fatalf("enqueue after done: added=%v err=%v; a settled decision must not run twice", added, err)
		}
	})
	t.Run("UnknownKindIsRefused", func(t *testing.T) {
		b := newBackend(t)
		j := job("j0")
		j.Kind = "escalate"
		if added, err := b.queue.Enqueue(context.Background(), j); err == nil || added {
			t.Fatalf("a job no Claim would hand out was accepted: added=%v err=%v", added, err)
		}
	})
	t.Run("ClaimRoundTripsTheJob", func(t *testing.T) {
		b := newBackend(t)
		in := job("j2")
		in.Decided = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		mustEnqueue(t, b.queue, in)
		j := claim(t, b.queue)
		if j.ID != in.ID || j.User != in.User || j.Alert.ID != "a1" || !j.Decided.Equal(in.Decided) || j.Attempts != 1 || j.Lease == "" {
			t.Fatalf("claimed %+v", j)
		}
	})
	t.Run("RetryDelaysAndCountsAttempts", func(t *testing.T) {
		b := newBackend(t)
		ctx := context.Background()
		mustEnqueue(t, b.queue, job("j3"))
		j := claim(t, b.queue)
		if err := b.queue.Retry(ctx, j, b.clock.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, ok := tryClaim(t, b.queue); ok {
			t.Fatal("job handed out before it was due")
		}
		b.clock.Add(time.Minute)
		j = claim(t, b.queue)
		if j.Attempts != 2 {
			t.Fatalf("attempts %d, want 2", j.Attempts)
		}
	})
	t.Run("ExpiredLeaseGoesToAnotherWorker", func(t *testing.T) {
		b := newBackend(t)
		ctx := context.Background()
		mustEnqueue(t, b.queue, job("j4"))
		first := claim(t, b.queue) // this worker "crashes"
		if _, ok := tryClaim(t, b.queue); ok {
			t.Fatal("leased job handed out twice")
		}
		if err := b.queue.Extend(ctx, first, time.Minute); err != nil {
			t.Fatal(err)
		}
		b.clock.Add(2 * time.Minute)
		second := claim(t, b.queue)
		if second.Lease == first.Lease {
			t.Fatal("same lease token after expiry")
		}
		if err := b.queue.Done(ctx, first); !errors.Is(err, alerts.ErrLeaseLost) {
			t.Fatalf("stale worker's Done: %v, want ErrLeaseLost", err)
		}
		if err := b.queue.Done(ctx, second); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ClaimReturnsOnCancel", func(t *testing.T) {
		b := newBackend(t)
		done, stop := context.WithCancel(context.Background())
		stop()
		mustEnqueue(t, b.queue, job("due"))
		if _, err := b.queue.Claim(done, time.Minute); !errors.Is(err, context.Canceled) {
			t.Fatalf("Claim with a cancelled context and a due job: %v; a stopping worker must not take work", err)
		}
		claim(t, b.queue) // take it out of the way
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { _, err := b.queue.Claim(ctx, time.Minute); errc <- err }()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("Claim on cancel: %v", err)
		}
	})
	t.Run("ClaimWakesOnEnqueue", func(t *testing.T) {
		b := newBackend(t)
		got := make(chan alerts.Job, 1)
		go func() {
			j, err := b.queue.Claim(context.Background(), time.Minute)
			if err == nil {
				got <- j
			}
		}()
		mustEnqueue(t, b.queue, job("j5"))
		if j := <-got; j.ID != "j5" {
			t.Fatalf("claimed %q", j.ID)
		}
	})
	t.Run("Ledger", func(t *testing.T) { ledgerSuite(t, newBackend(t)) })
	t.Run("Kinds", func(t *testing.T) { kindSuite(t, newBackend(t)) })
}

func ledgerSuite(t *testing.T, b backend) {
	ctx := context.Background()
	admit := func(decision, tenant, user string) alerts.Admission {
		t.Helper()
		a, err := b.ledger.Admit(ctx, alerts.AdmitRequest{Decision: decision, Tenant: tenant, User: user,
			Now: b.clock.Now(), Max: 2, Window: 10 * time.Minute, Cooldown: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	steps := []struct {
		decision, tenant, user string
		want                   alerts.Admission
	}{
		{"d1", "", "anna@example.org", alerts.Admission{Verdict: alerts.VerdictAllowed}},
		{"d1", "", "anna@example.org", alerts.Admission{Verdict: alerts.VerdictAllowed, Duplicate: true}},
		{"d2", "", "ANNA@example.org", alerts.Admission{Verdict: alerts.VerdictCooldown}},
		{"d3", "", "bob@example.org", alerts.Admission{Verdict: alerts.VerdictAllowed}},
		{"d4", "", "carl@example.org", alerts.Admission{Verdict: alerts.VerdictRateLimited, Tripped: true}},
		{"d5", "", "dora@example.org", alerts.Admission{Verdict: alerts.VerdictRateLimited}},
		{"d6", "other", "dora@example.org", alerts.Admission{Verdict: alerts.VerdictAllowed}},
	}
	for _, s := range steps {
		if got := admit(s.decision, s.tenant, s.user); got != s.want {
			t.Errorf("%s %s: got %+v, want %+v", s.decision, s.user, got, s.want)
		}
	}
	b.clock.Add(11 * time.Minute)
	if got := admit("d7", "", "erik@example.org"); got.Verdict != alerts.VerdictAllowed {
		t.Errorf("after the window: %+v, want allowed", got)
	}
	if got := admit("d8", "", "anna@example.org"); got.Verdict != alerts.VerdictCooldown {
		t.Errorf("anna within cooldown: %+v", got)
	}
}

func mustEnqueue(t *testing.T, q alerts.Queue, j alerts.Job) {
	t.Helper()
	if added, err := q.Enqueue(context.Background(), j); err != nil || !added {
		t.Fatalf("enqueue %s: added=%v err=%v", j.ID, added, err)
	}
}

func claim(t *testing.T, q alerts.Queue) alerts.Job {
	t.Helper()
	j, ok := tryClaim(t, q)
	if !ok {
		t.Fatal("no job to claim")
	}
	return j
}

// tryClaim claims with a short deadline: the suite's clock does not move
// by itself, so a job not due now will not become due while waiting.
func tryClaim(t *testing.T, q alerts.Queue) (alerts.Job, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	j, err := q.Claim(ctx, time.Minute)
	if errors.Is(err, context.DeadlineExceeded) {
		return alerts.Job{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return j, true
}

// kindSuite checks that revocations are handed out before deliveries and
// that a worker reserved for revocations never gets a delivery.
func kindSuite(t *testing.T, b backend) {
	ctx := context.Background()
	n := job("n1")
	n.Kind = alerts.KindNotify
	mustEnqueue(t, b.queue, n)
	b.clock.Add(time.Second)
	mustEnqueue(t, b.queue, job("r1"))
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	j, err := b.queue.Claim(cctx, time.Minute, alerts.KindRevoke)
	if err != nil || j.ID != "r1" {
		t.Fatalf("revoke-only claim: %q %v", j.ID, err)
	}
	if _, err := b.queue.Claim(cctx, time.Minute, alerts.KindRevoke); err == nil {
		t.Fatal("revoke-only worker got a delivery")
	}
	if err := b.queue.Retry(ctx, j, b.clock.Now()); err != nil {
		t.Fatal(err)
	}
	first := claim(t, b.queue)
	second := claim(t, b.queue)
	if first.ID != "r1" || second.ID != "n1" {
		t.Fatalf("order %s, %s; the older delivery must wait for the revocation", first.ID, second.ID)
	}
}
