package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/atod-project/atod/detector"
)

// Retrier makes an outage of the store a pause rather than a failure: Load
// and Save wait, with exponential backoff and jitter, until the store
// answers or ctx is done. Only errors wrapping ErrUnavailable are retried;
// the rest (a conflict, a bad password) are returned at once. The outage is
// logged once when it starts and once when it ends, not once per attempt,
// and Health reports it, for a readiness probe.
//
// Repeating a Save is safe: the Store's compare-and-set counts a write that
// already landed as done.
type Retrier struct {
	store    detector.Store
	log      *zap.Logger
	min, max time.Duration

	mu       sync.Mutex
	down     error // the last error of the current outage; nil: healthy
	since    time.Time
	attempts int
	upSince  time.Time // end of the last outage
	quiet    bool      // the current outage is a relapse, logged at debug level
}

// relapse is how soon after an outage ends a new one counts as part of it.
// go-redis keeps refusing new connections for up to a second after
// repeated dial failures (its dial circuit breaker probes once a second),
// so the first request that needs a new connection can fail although
// Redis is back; one outage should not be logged as two.
const relapse = 2 * time.Second

var _ detector.Store = (*Retrier)(nil)

// NewRetrier wraps store; the backoff starts at min and doubles up to max.
func NewRetrier(store detector.Store, log *zap.Logger, min, max time.Duration) *Retrier {
	return &Retrier{store: store, log: log, min: min, max: max}
}

// Load implements detector.Store.
func (r *Retrier) Load(ctx context.Context, users []string, addrs []netip.Addr) (us []*detector.UserState, as []*detector.AddrState, err error) {
	err = r.retry(ctx, func() error {
		var err error
		us, as, err = r.store.Load(ctx, users, addrs)
		return err
	})
	return us, as, err
}

// Save implements detector.Store.
func (r *Retrier) Save(ctx context.Context, users []*detector.UserState, addrs []*detector.AddrState) error {
	return r.retry(ctx, func() error { return r.store.Save(ctx, users, addrs) })
}

var _ detector.SaverAhead = (*Retrier)(nil)

// SavesAhead implements detector.SaverAhead when the wrapped store does.
func (r *Retrier) SavesAhead() bool {
	a, ok := r.store.(detector.SaverAhead)
	return ok && a.SavesAhead()
}

// SaveAhead implements detector.SaverAhead. It does not wait out an
// outage: the caller answers any error of wait with a Save, which does.
func (r *Retrier) SaveAhead(ctx context.Context, users []*detector.UserState, addrs []*detector.AddrState) (wait func() error) {
	return r.store.(detector.SaverAhead).SaveAhead(ctx, users, addrs)
}

var _ detector.Committer = (*Retrier)(nil)

// Commit implements detector.Committer: its send waits out an outage as
// Save does; repeating a send is as safe as repeating a Save.
func (r *Retrier) Commit(ctx context.Context, users []*detector.UserState, addrs []*detector.AddrState,
	readUsers []*detector.UserState, readAddrs []*detector.AddrState) (send func(context.Context) error, err error) {
	c, ok := r.store.(detector.Committer)
	if !ok {
		return nil, fmt.Errorf("state store %T cannot commit a window", r.store)
	}
	once, err := c.Commit(ctx, users, addrs, readUsers, readAddrs)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		return r.retry(ctx, func() error { return once(ctx) })
	}, nil
}

// Health returns nil while the store answers, and the last error while it
// does not.
func (r *Retrier) Health() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.down
}

// Healthy reports whether the store answers.
func (r *Retrier) Healthy() bool { return r.Health() == nil }

func (r *Retrier) retry(ctx context.Context, op func() error) error {
	wait := r.min
	for {
		err := op()
		if err == nil || !errors.Is(err, ErrUnavailable) {
			r.recovered(err)
			return err
		}
		r.failed(err)
		// Equal jitter: instances that lost Redis together do not all
		// come back in the same millisecond.
		d := wait/2 + rand.N(wait/2+1)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for the state store: %w", errors.Join(ctx.Err(), err))
		case <-t.C:
		}
		wait = min(wait*2, r.max)
	}
}

func (r *Retrier) failed(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if r.down == nil {
		r.since = time.Now()
		r.quiet = !r.upSince.IsZero() && r.since.Sub(r.upSince) < relapse
		r.logAt(zap.WarnLevel, "state store unavailable; detection paused until it answers", zap.Error(err))
	}
	r.down = err
}

// recovered ends an outage; err is the answer that ended it (nil, or an
// error that is not about availability).
func (r *Retrier) recovered(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down == nil {
		return
	}
	r.logAt(zap.InfoLevel, "state store available again; detection resumed",
		zap.Duration("outage", time.Since(r.since).Round(time.Millisecond)), zap.Int("failed_attempts", r.attempts),
		zap.NamedError("next_error", err))
	r.down, r.attempts, r.upSince = nil, 0, time.Now()
}

func (r *Retrier) logAt(level zapcore.Level, msg string, fields ...zap.Field) {
	if r.quiet {
		level = zap.DebugLevel
	}
	if ce := r.log.Check(level, msg); ce != nil {
		ce.Write(fields...)
	}
}

// isNetworkError reports whether err is a failure to reach or talk to a
// server: refused, reset, timed out, closed mid-reply.
func isNetworkError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// ClientLogger turns go-redis's own log lines, such as a failed dial on
// every attempt, into debug lines of log: the Retrier already says when
// Redis goes away and comes back. go-redis takes its logger globally, so
// the program's main installs it: redis.SetLogger(redisstore.ClientLogger(log)).
func ClientLogger(log *zap.Logger) interface {
	Printf(ctx context.Context, format string, v ...any)
} {
	return clientLogger{log.Named("go-redis")}
}

type clientLogger struct{ log *zap.Logger }

func (l clientLogger) Printf(_ context.Context, format string, v ...any) {
	if ce := l.log.Check(zap.DebugLevel, ""); ce != nil {
		ce.Message = fmt.Sprintf(format, v...)
		ce.Write()
	}
}
