package alerts

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"go.uber.org/zap"
)

// RetryConfig is hooks.retry: how hard one worker tries a job before it
// goes back to the queue.
type RetryConfig struct {
	// InitialBackoff is the wait after the first failure; each further
	// failure doubles it up to MaxBackoff. Each wait is jittered (between
	// half and all of it) so that many workers hit by one outage do not
	// come back in step.
	InitialBackoff time.Duration `yaml:"initial_backoff"`
	MaxBackoff     time.Duration `yaml:"max_backoff"`
	// MaxElapsed bounds one round of attempts; after it the job returns to
	// the durable queue and is tried again later, so that a long outage
	// costs a worker nothing and survives a restart.
	MaxElapsed time.Duration `yaml:"max_elapsed"`
	// AttemptTimeout bounds each call, so a provider that hangs is a
	// retryable failure rather than a stuck worker.
	AttemptTimeout time.Duration `yaml:"attempt_timeout"`
	// MaxRetryAfter caps a provider's Retry-After: a throttling answer
	// asking for an hour still has the job tried again within this.
	MaxRetryAfter time.Duration `yaml:"max_retry_after"`
}

// DefaultRetryConfig returns the defaults.
func DefaultRetryConfig() RetryConfig {
	return RetryConfig{InitialBackoff: 250 * time.Millisecond, MaxBackoff: 30 * time.Second,
		MaxElapsed: 2 * time.Minute, AttemptTimeout: 15 * time.Second, MaxRetryAfter: 10 * time.Minute}
}

// Validate checks the values; messages name the keys under hooks.retry.
func (c RetryConfig) Validate() error {
	var errs []error
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"initial_backoff", c.InitialBackoff}, {"max_backoff", c.MaxBackoff}, {"max_elapsed", c.MaxElapsed},
		{"attempt_timeout", c.AttemptTimeout}, {"max_retry_after", c.MaxRetryAfter}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("retry.%s: must be positive, got %s", d.key, d.v))
		}
	}
	if c.MaxBackoff < c.InitialBackoff {
		errs = append(errs, fmt.Errorf("retry.max_backoff (%s) is below retry.initial_backoff (%s)", c.MaxBackoff, c.InitialBackoff))
	}
	return errors.Join(errs...)
}

// Result is what a round of attempts ended with.
type Result struct {
	Attempts int
	Err      error // nil: delivered
	// Retry is set when Err may go away: the job should be tried again
	// after Wait.
	Retry bool
	Wait  time.Duration
}

// Retrier is the retry stage: every call of every integration goes
// through Do. It is safe for concurrent use.
type Retrier struct {
	cfg   RetryConfig
	log   *zap.Logger
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time

	mu  sync.Mutex
	rnd *rand.Rand
}

// NewRetrier returns a retry stage; log receives one line per failure.
func NewRetrier(cfg RetryConfig, log *zap.Logger) *Retrier {
	return &Retrier{cfg: cfg, log: log, sleep: sleepCtx, now: time.Now,
		rnd: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
}

// Do calls op until it succeeds, fails permanently, or the round's time is
// up; name identifies the integration and job in logs. Permanent failures
// are logged at error level: they mean a wrong credential, permission or
// request, which a person must fix. On cancel Do returns ctx's error with
// Retry set, so the job goes back to the queue.
func (r *Retrier) Do(ctx context.Context, name string, op func(ctx context.Context) (bool, error)) Result {
	start := r.now()
	backoff := r.cfg.InitialBackoff
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, r.cfg.AttemptTimeout)
		retry, err := op(actx)
		timedOut := actx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil {
			if attempt > 1 {
				r.log.Info("delivered after retries", zap.String("integration", name), zap.Int("attempts", attempt))
			}
			return Result{Attempts: attempt}
		}
		if ctx.Err() != nil {
			return Result{Attempts: attempt, Err: err, Retry: true}
		}
		if timedOut {
			retry = true
			err = fmt.Errorf("no answer within %s: %w", r.cfg.AttemptTimeout, err)
		}
		if !retry {
			r.log.Error("integration rejected the request; not retrying (check its credentials, permissions and the account)",
				zap.String("integration", name), zap.Int("attempt", attempt), zap.Error(err))
			return Result{Attempts: attempt, Err: err}
		}
		wait := r.jitter(backoff)
		if ra, ok := RetryAfter(err); ok {
			wait = max(min(ra, r.cfg.MaxRetryAfter), wait)
		}
		backoff = min(2*backoff, r.cfg.MaxBackoff)
		if r.now().Add(wait).Sub(start) > r.cfg.MaxElapsed {
			r.log.Warn("integration still failing; job goes back to the queue",
				zap.String("integration", name), zap.Int("attempts", attempt), zap.Duration("next_in", wait), zap.Error(err))
			return Result{Attempts: attempt, Err: err, Retry: true, Wait: wait}
		}
		r.log.Warn("integration failed; retrying", zap.String("integration", name), zap.Int("attempt", attempt),
			zap.Duration("wait", wait), zap.Error(err))
		if err := r.sleep(ctx, wait); err != nil {
			return Result{Attempts: attempt, Err: err, Retry: true}
		}
	}
}

// jitter returns a wait between half of d and d.
func (r *Retrier) jitter(d time.Duration) time.Duration {
	r.mu.Lock()
	f := r.rnd.Float64()
	r.mu.Unlock()
	return d/2 + time.Duration(f*float64(d/2))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
