package redisstore

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/storetest"
)

// opHook runs around every Load (MGET) and Save (a pipeline of scripts)
// the client sends, with how many of that kind were sent so far (retries
// included); send sends it. The pipelines that set a new connection up
// are not counted.
type opHook struct {
	around       func(op string, n int64, send func() error, cmds []redis.Cmder) error
	loads, saves atomic.Int64
}

func (h *opHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *opHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() != "mget" {
			return next(ctx, cmd)
		}
		return h.around("load", h.loads.Add(1), func() error { return next(ctx, cmd) }, []redis.Cmder{cmd})
	}
}

func (h *opHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) == 0 || !strings.HasPrefix(cmds[0].Name(), "eval") {
			return next(ctx, cmds)
		}
		return h.around("save", h.saves.Add(1), func() error { return next(ctx, cmds) }, cmds)
	}
}

// Killing redis-server twice during a replay of the demo tenant and
// restarting it from its append-only file changes no alert: once before a
// Load reaches it, once after a Save was applied but before the reply came
// back. The Retrier waits, nothing is skipped, and the repeated Save finds
// its own write and counts it once. Each outage is logged once.
func TestKillAndRestartMidReplay(t *testing.T) {
	srv := startRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	store := newTestStore(t, testConfig([]string{srv.addr()}, "atod:"))
	core, logs := observer.New(zap.InfoLevel)
	retrier := NewRetrier(store, zap.New(core), 10*time.Millisecond, 100*time.Millisecond)

	var sawDown atomic.Bool
	waitRestarts := twoOutages(srv, store, 8, func() {
		// Far enough from the first outage not to count as a relapse.
		time.Sleep(relapse)
	}, func() { sawDown.Store(!retrier.Healthy()) })

	events := storetest.DemoEvents(t)
	cfg := detector.DefaultConfig()
	got := storetest.Replay(t, cfg, retrier, events)
	waitRestarts(t)
	want := storetest.Replay(t, cfg, detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention), events)
	storetest.CompareAlerts(t, got, want)

	if !sawDown.Load() || !retrier.Healthy() {
		t.Errorf("health: down during the outage %v, healthy after %v", sawDown.Load(), retrier.Healthy())
	}
	down := logs.FilterMessageSnippet("unavailable").Len()
	up := logs.FilterMessageSnippet("available again").Len()
	if down != 2 || up != 2 {
		t.Errorf("logged %d outages and %d recoveries, want 2 and 2 (once per outage, not per attempt):\n%v", down, up, logs.All())
	}
}

// twoOutages has the test's replay through store lose redis-server twice:
// killed before the third load (or the first after it) reaches it, and
// killed after the saveN-th save (or the first after it that reaches the
// server) was applied but before its reply came back,
// as if it died after writing; beforeSaveKill runs just before that save.
// Each time the server restarts 300 ms later, after down runs. The
// returned function waits for both restarts.
func twoOutages(srv *redisServer, store *Store, saveN int64, beforeSaveKill, down func()) (waitRestarts func(testing.TB)) {
	restarted := make(chan error, 2)
	// Each outage fires once, at the first op at or past its count that
	// reaches the server: a Save that falls into the first outage fails
	// before it is sent, and the second outage waits for its retry (with
	// exact counts it never came, and the test hung).
	var loadFired, saveFired atomic.Bool
	restartLater := func() {
		go func() {
			time.Sleep(300 * time.Millisecond)
			down()
			restarted <- srv.restart()
		}()
	}
	store.client.AddHook(&opHook{around: func(op string, n int64, send func() error, cmds []redis.Cmder) error {
		switch {
		case op == "load" && n >= 3 && !loadFired.Load():
			loadFired.Store(true)
			srv.kill()
			restartLater()
			return send()
		case op == "save" && n >= saveN && !saveFired.Load():
			beforeSaveKill()
			if err := send(); err != nil {
				return err
			}
			saveFired.Store(true)
			srv.kill()
			restartLater()
			for _, c := range cmds {
				c.SetErr(io.ErrUnexpectedEOF)
			}
			return io.ErrUnexpectedEOF
		}
		return send()
	}})
	return func(t testing.TB) {
		t.Helper()
		for range 2 {
			if err := <-restarted; err != nil {
				t.Fatal(err)
			}
		}
	}
}

// fakeStore answers Load with the errors queued, then with empty states.
type fakeStore struct {
	errs  []error
	calls int
}

func (f *fakeStore) Load(_ context.Context, users []string, _ []netip.Addr) ([]*detector.UserState, []*detector.AddrState, error) {
	f.calls++
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return nil, nil, err
	}
	return make([]*detector.UserState, len(users)), nil, nil
}

func (f *fakeStore) Save(context.Context, []*detector.UserState, []*detector.AddrState) error {
	return nil
}

func TestRetrier(t *testing.T) {
	down := errors.Join(ErrUnavailable, &net.OpError{Op: "dial", Err: errors.New("refused")})
	t.Run("waits out an outage", func(t *testing.T) {
		core, logs := observer.New(zap.InfoLevel)
		f := &fakeStore{errs: []error{down, down, down}}
		r := NewRetrier(f, zap.New(core), time.Millisecond, 4*time.Millisecond)
		if _, _, err := r.Load(context.Background(), []string{"a"}, nil); err != nil || f.calls != 4 {
			t.Fatalf("Load = %v after %d calls", err, f.calls)
		}
		if logs.Len() != 2 || !r.Healthy() {
			t.Errorf("healthy %v, logs %v", r.Healthy(), logs.All())
		}
	})
	t.Run("a relapse is part of the outage", func(t *testing.T) {
		core, logs := observer.New(zap.InfoLevel)
		f := &fakeStore{errs: []error{down, nil, down}}
		r := NewRetrier(f, zap.New(core), time.Millisecond, time.Millisecond)
		for range 2 {
			if _, _, err := r.Load(context.Background(), nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		if logs.Len() != 2 {
			t.Errorf("logs %v, want one outage and one recovery", logs.All())
		}
	})
	t.Run("other errors at once", func(t *testing.T) {
		f := &fakeStore{errs: []error{detector.ErrConflict}}
		r := NewRetrier(f, zap.NewNop(), time.Millisecond, time.Millisecond)
		if _, _, err := r.Load(context.Background(), nil, nil); !errors.Is(err, detector.ErrConflict) || f.calls != 1 {
			t.Fatalf("Load = %v after %d calls", err, f.calls)
		}
	})
	t.Run("gives up when cancelled", func(t *testing.T) {
		f := &fakeStore{errs: []error{down, down, down, down, down, down, down, down}}
		r := NewRetrier(f, zap.NewNop(), 5*time.Millisecond, 5*time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 12*time.Millisecond)
		defer cancel()
		_, _, err := r.Load(ctx, nil, nil)
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrUnavailable) || r.Healthy() {
			t.Fatalf("Load = %v, healthy %v", err, r.Healthy())
		}
		if r.Health() == nil {
			t.Error("Health() = nil during an outage")
		}
	})
}
