package main

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/redisstore"
)

// openRunStore is openStore for atod run, which also needs an alert outbox
// beside the state (see alerts.Outbox) and counts Redis errors: Redis
// when redis.addrs names servers, else process memory for both.
//
// The Redis store is returned too (nil with memory state): the hooks'
// durable queue lives beside the state (see besideState). The outbox seals
// its alerts with the store's RecordKey.
func openRunStore(ctx context.Context, cfg *fileConfig, log *zap.Logger, errs *prometheus.CounterVec) (detector.Store, alerts.Outbox, *redisstore.Store, func() error, error) {
	det := &cfg.Detector
	if len(cfg.Redis.Addrs) == 0 {
		log.Warn("no redis.addrs: detector state and staged alerts live in memory; a restart forgets them")
		return detector.NewMemoryStore(det.UserRetention, det.AddrRetention), alerts.NewMemoryOutbox(), nil, func() error { return nil }, nil
	}
	rs, err := connectRedis(ctx, cfg, log)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	counted := countingStore{Store: rs, errs: errs.WithLabelValues("redis")}
	store := redisstore.NewRetrier(counted, log, cfg.Redis.RetryBackoffMin, cfg.Redis.RetryBackoffMax)
	ro := alerts.NewRedisOutbox(rs.Client(), cfg.Redis.KeyPrefix, 0)
	ro.SealWith(rs.RecordKey())
	outbox := &retryingOutbox{Outbox: ro, log: log,
		errs: errs.WithLabelValues("outbox"), min: cfg.Redis.RetryBackoffMin, max: cfg.Redis.RetryBackoffMax}
	return store, outbox, rs, rs.Close, nil
}

// countingStore counts the store's failures for /metrics; conflicts are
// the normal way of two instances taking turns and are not counted.
type countingStore struct {
	detector.Store
	errs prometheus.Counter
}

func (c countingStore) Load(ctx context.Context, users []string, addrs []netip.Addr) ([]*detector.UserState, []*detector.AddrState, error) {
	us, as, err := c.Store.Load(ctx, users, addrs)
	c.count(ctx, err)
	return us, as, err
}

func (c countingStore) Save(ctx context.Context, users []*detector.UserState, addrs []*detector.AddrState) error {
	err := c.Store.Save(ctx, users, addrs)
	c.count(ctx, err)
	return err
}

// SavesAhead implements detector.SaverAhead when the wrapped store does.
func (c countingStore) SavesAhead() bool {
	a, ok := c.Store.(detector.SaverAhead)
	return ok && a.SavesAhead()
}

// SaveAhead implements detector.SaverAhead, counting a failed write when
// it is waited for.
func (c countingStore) SaveAhead(ctx context.Context, users []*detector.UserState, addrs []*detector.AddrState) func() error {
	wait := c.Store.(detector.SaverAhead).SaveAhead(ctx, users, addrs)
	return func() error {
		err := wait()
		c.count(ctx, err)
		return err
	}
}

func (c countingStore) count(ctx context.Context, err error) {
	if err != nil && ctx.Err() == nil && !errors.Is(err, detector.ErrConflict) {
		c.errs.Inc()
	}
}

// retryingOutbox waits out a Redis outage as the state's Retrier does:
// an alert that cannot be staged must not be given up on.
type retryingOutbox struct {
	alerts.Outbox
	log      *zap.Logger
	errs     prometheus.Counter
	min, max time.Duration

	mu   sync.Mutex
	down error // the last error of an outage in progress
}

// Health returns nil while the outbox answers, for the readiness probe.
func (r *retryingOutbox) Health() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.down
}

func (r *retryingOutbox) setDown(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = err
}

func (r *retryingOutbox) Stage(ctx context.Context, key string, as []detector.Alert) error {
	return r.retry(ctx, func() error { return r.Outbox.Stage(ctx, key, as) })
}

func (r *retryingOutbox) Pending(ctx context.Context, key string) (as []detector.Alert, err error) {
	err = r.retry(ctx, func() error { as, err = r.Outbox.Pending(ctx, key); return err })
	return as, err
}

func (r *retryingOutbox) Clear(ctx context.Context, key string) error {
	return r.retry(ctx, func() error { return r.Outbox.Clear(ctx, key) })
}

func (r *retryingOutbox) retry(ctx context.Context, op func() error) error {
	wait := r.min
	for attempt := 0; ; attempt++ {
		err := op()
		if err == nil {
			if attempt > 0 {
				r.log.Info("alert outbox reachable again", zap.Int("attempts", attempt+1))
				r.setDown(nil)
			}
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		r.errs.Inc()
		r.setDown(err)
		if attempt == 0 {
			r.log.Warn("alert outbox unreachable; retrying", zap.Error(err))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(wait*2, r.max)
	}
}
