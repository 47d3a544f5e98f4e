package alerts

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/atod-project/atod/alerts/internal/httpx"
)

// fakeRetrier records the waits instead of sleeping.
func fakeRetrier(cfg RetryConfig) (*Retrier, *[]time.Duration) {
	r := NewRetrier(cfg, zap.NewNop())
	var waits []time.Duration
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return now }
	r.sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		now = now.Add(d)
		return ctx.Err()
	}
	return r, &waits
}

// step is one scripted answer of a fake integration.
type step struct {
	retry bool
	err   error
	block bool // wait for the attempt's deadline
}

func script(steps ...step) (func(context.Context) (bool, error), *int) {
	calls := 0
	return func(ctx context.Context) (bool, error) {
		s := steps[min(calls, len(steps)-1)]
		calls++
		if s.block {
			<-ctx.Done()
			return false, ctx.Err()
		}
		return s.retry, s.err
	}, &calls
}

func TestRetryStage(t *testing.T) {
	cfg := RetryConfig{InitialBackoff: time.Second, MaxBackoff: 4 * time.Second, MaxElapsed: time.Minute,
		AttemptTimeout: 20 * time.Millisecond, MaxRetryAfter: 30 * time.Second}
	throttled := &httpx.StatusError{Op: "x", Status: 429, After: 7 * time.Second}
	longThrottle := &httpx.StatusError{Op: "x", Status: 429, After: time.Hour}
	down := &httpx.StatusError{Op: "x", Status: 503}
	denied := &httpx.StatusError{Op: "x", Status: 403}
	cases := []struct {
		name      string
		steps     []step
		cfg       func(*RetryConfig)
		calls     int
		ok, retry bool
		waits     [][2]time.Duration // allowed range of each wait
	}{
		{name: "throttled, down, then fine", steps: []step{{true, throttled, false}, {true, down, false}, {false, nil, false}},
			calls: 3, ok: true, waits: [][2]time.Duration{{7 * time.Second, 7 * time.Second}, {time.Second, 2 * time.Second}}},
		{name: "retry-after capped", steps: []step{{true, longThrottle, false}, {false, nil, false}},
			calls: 2, ok: true, waits: [][2]time.Duration{{30 * time.Second, 30 * time.Second}}},
		{name: "rejected: no retry", steps: []step{{false, denied, false}}, calls: 1},
		{name: "timeout is retried", steps: []step{{block: true}, {false, nil, false}}, calls: 2, ok: true,
			waits: [][2]time.Duration{{500 * time.Millisecond, time.Second}}},
		{name: "backoff doubles up to the cap", steps: []step{{true, down, false}, {true, down, false}, {true, down, false},
			{true, down, false}, {false, nil, false}}, calls: 5, ok: true,
			waits: [][2]time.Duration{{500 * time.Millisecond, time.Second}, {time.Second, 2 * time.Second},
				{2 * time.Second, 4 * time.Second}, {2 * time.Second, 4 * time.Second}}},
		{name: "round over: back to the queue", steps: []step{{true, down, false}},
			// The first wait (0.5–1s) fits in the round, the second (1–2s more) never does.
			cfg: func(c *RetryConfig) { c.MaxElapsed = 1200 * time.Millisecond }, calls: 2, retry: true,
			waits: [][2]time.Duration{{500 * time.Millisecond, time.Second}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			if tc.cfg != nil {
				tc.cfg(&c)
			}
			r, waits := fakeRetrier(c)
			op, calls := script(tc.steps...)
			res := r.Do(context.Background(), "test", op)
			if *calls != tc.calls || (res.Err == nil) != tc.ok || res.Retry != tc.retry || res.Attempts != tc.calls {
				t.Fatalf("calls %d, result %+v; want %d calls, ok %v, retry %v", *calls, res, tc.calls, tc.ok, tc.retry)
			}
			if len(*waits) != len(tc.waits) {
				t.Fatalf("waits %v, want %d", *waits, len(tc.waits))
			}
			for i, w := range *waits {
				if w < tc.waits[i][0] || w > tc.waits[i][1] {
					t.Errorf("wait %d = %s, want within %v", i, w, tc.waits[i])
				}
			}
			if tc.retry && res.Wait <= 0 {
				t.Error("no wait suggested for the queue")
			}
		})
	}
}

func TestRetryStageCancel(t *testing.T) {
	r := NewRetrier(DefaultRetryConfig(), zap.NewNop())
	ctx, cancel := context.WithCancel(context.Background())
	res := r.Do(ctx, "test", func(context.Context) (bool, error) {
		cancel()
		return true, errors.New("down")
	})
	if !res.Retry || res.Attempts != 1 {
		t.Fatalf("%+v", res)
	}
}

func TestRetryConfigValidate(t *testing.T) {
	c := DefaultRetryConfig()
	c.MaxBackoff = time.Millisecond
	c.AttemptTimeout = 0
	err := c.Validate()
	if err == nil || !contains(err.Error(), "retry.max_backoff", "retry.attempt_timeout") {
		t.Fatalf("%v", err)
	}
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
