package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/redisstore"
	"github.com/atod-project/atod/ingest"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// gateAheadStore is atod run's Redis store (Retrier over the counting
// store over redisstore) whose next write ahead, once gate is set, is
// never sent: it waits until its context ends and fails with the
// context's error, as a compare-and-set under a generation that ended
// does when its connection is cut before the script went out. Everything
// else is the real store.
type gateAheadStore struct {
	detector.SaverAhead
	gate chan struct{}
	// hold, when set, delays the wait of the next write ahead, which is
	// sent at once, until it is closed: a write in flight.
	hold chan struct{}
}

func (s *gateAheadStore) SaveAhead(ctx context.Context, users []*detector.UserState, addrs []*detector.AddrState) func() error {
	if gate := s.gate; gate != nil {
		s.gate = nil
		return func() error {
			select {
			case <-gate:
				return errors.New("gate opened: not expected in these tests")
			case <-ctx.Done():
				return fmt.Errorf("redis save: %w", ctx.Err())
			}
		}
	}
	if hold := s.hold; hold != nil {
		s.hold = nil
		wait := s.SaverAhead.SaveAhead(ctx, users, addrs)
		return func() error {
			<-hold
			return wait()
		}
	}
	return s.SaverAhead.SaveAhead(ctx, users, addrs)
}

// gatedRedisStore opens atod run's Redis state store on a redis-server of
// the test's own; read loads accounts with a Store of its own (no cache).
func gatedRedisStore(t *testing.T) (*gateAheadStore, func(user string) *detector.UserState) {
	t.Helper()
	return gatedRedisStoreAt(t, startRedis(t).addr)
}

// gatedRedisStoreAt is gatedRedisStore on the redis-server at addr.
func gatedRedisStoreAt(t *testing.T, addr string) (*gateAheadStore, func(user string) *detector.UserState) {
	t.Helper()
	cfg := defaultFileConfig()
	cfg.Redis.Addrs, cfg.Redis.AllowPlainKeys = []string{addr}, true
	cfg.Redis.RetryBackoffMin, cfg.Redis.RetryBackoffMax = 10*time.Millisecond, 100*time.Millisecond
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "review_errors_total"}, []string{"component"})
	store, _, _, closeStore, err := openRunStore(context.Background(), &cfg, zap.NewNop(), errs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeStore() })
	ahead, ok := store.(detector.SaverAhead)
	if !ok || !ahead.SavesAhead() {
		t.Fatalf("atod run's Redis store %T does not save ahead", store)
	}
	det := &cfg.Detector
	reader, err := redisstore.New(cfg.Redis, redisstore.Options{UserRetention: det.UserRetention, AddrRetention: det.AddrRetention})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reader.Close() })
	read := func(user string) *detector.UserState {
		t.Helper()
		us, _, err := reader.Load(context.Background(), []string{user}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return us[0]
	}
	return &gateAheadStore{SaverAhead: ahead}, read
}

// togetherOutcome is what a run of the together scenario leaves.
type togetherOutcome struct {
	alerts   []string // published alert ids (rule/user/id), sorted
	done     int      // events reported done
	failures int      // a@x's failed sign-ins in the state
	reapply  int64    // events skipped as applied
}

// runTogetherScenario drives the Handler as ingest/kafka's session does
// through one generation and its end, then the next generation's Assign:
//
//  1. partition 0 brings a@x's 12 failed sign-ins (a brute-force alert),
//     partition 1 two of b@x's; the tick after max_hold runs both as one
//     batch of the together Pipeline, whose state goes ahead;
//  2. with fail set, the generation ends while that write travels: the
//     write and the rerun fail with the generation's context, so the
//     together Pipeline keeps the events as unsaved and Tick fails;
//  3. the session's finish hands on what was fetched meanwhile (Handle
//     with the drain context): two more of a@x's failures, and two later
//     failed sign-ins of c@x that move partition 0's event time past them;
//  4. Revoke of both partitions, and the next generation's Assign of
//     partition 0 to this instance again (which delivers its outbox).
func runTogetherScenario(t *testing.T, clock time.Time, fail bool) togetherOutcome {
	t.Helper()
	store, read := gatedRedisStore(t)
	const maxHold = 50 * time.Millisecond
	d, pub, outbox := newTestLiveDetector(t, detector.DefaultConfig(), store)
	d.eng.TrackPositions() // as atod run does
	d.maxHold, d.now = maxHold, func() time.Time { return clock }

	genCtx, endGen := context.WithCancel(context.Background())
	defer endGen()
	var done []ingest.Position
	if err := d.Assign(genCtx, []ingestkafka.Assignment{{Partition: 0}, {Partition: 1}}); err != nil {
		t.Fatal(err)
	}
	start := clock.Add(-10 * time.Minute)
	a1 := bruteForceBatch("a@x", 12, start, 100)
	b := bruteForceBatch("b@x", 2, start, 200)
	for i := range b {
		b[i].Pos.Partition = 1
	}
	for p, evs := range map[int32][]ingest.Event{0: a1, 1: b} {
		more, err := d.Handle(genCtx, ingestkafka.Batch{Partition: p, Events: evs, Newest: clock}, nil)
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, more...)
	}
	if fail {
		store.gate = make(chan struct{}) // never opened: the generation ends first
	}
	ticked := make(chan error, 1)
	go func() {
		more, err := d.Tick(genCtx, clock.Add(maxHold), nil)
		done = append(done, more...)
		ticked <- err
	}()
	if fail {
		waitFor(t, "the together batch's alert staged for partition 0", func() bool {
			as, _ := outbox.Pending(context.Background(), "g/t/0")
			return len(as) > 0
		})
		endGen() // a rebalance: the generation's context ends under the write
	}
	if err := <-ticked; (err != nil) != fail {
		t.Fatalf("tick: %v (generation ended under the write: %v)", err, fail)
	}
	if fail && !d.together.Unsaved() {
		t.Fatal("the together Pipeline kept no unsaved events after its rerun failed")
	}

	// The session's finish: what was fetched meanwhile, then Revoke, with
	// the drain context.
	dctx := context.Background()
	a2 := bruteForceBatch("a@x", 2, start.Add(20*time.Second), 112)
	c := bruteForceBatch("c@x", 2, start.Add(3*time.Minute), 114)
	more, err := d.Handle(dctx, ingestkafka.Batch{Partition: 0, Events: append(a2, c...), Newest: clock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done = append(done, more...)
	if fail {
		as, _ := outbox.Pending(dctx, "g/t/0")
		t.Logf("partition 0's outbox after the finish's Handle, before Revoke: %d alerts; unsaved kept by together: %v", len(as), d.together.Unsaved())
	}
	more, err = d.Revoke(dctx, []int32{0, 1}, nil)
	done = append(done, more...)
	if err != nil {
		t.Logf("revoke: %v", err)
	}
	// The next generation gives partition 0 to this instance again.
	if err := d.Assign(dctx, []ingestkafka.Assignment{{Partition: 0}}); err != nil {
		t.Fatal(err)
	}

	var out togetherOutcome
	pub.mu.Lock()
	for _, a := range pub.published {
		out.alerts = append(out.alerts, a.Rule+"/"+a.User+"/"+a.ID)
	}
	pub.mu.Unlock()
	sort.Strings(out.alerts)
	out.alerts = slices.Compact(out.alerts)
	out.done = len(done)
	out.failures = len(read("a@x").Failures)
	out.reapply = d.eng.Reapplied()
	return out
}

// A tick's batch of several partitions whose write ahead and rerun fail as
// the generation ends keeps its events as unsaved in the together
// Pipeline. The session's finish then hands on the records fetched
// meanwhile: they run only after the unsaved events (finishTogether).
// Before, partition 0's own Pipeline ran a@x's later events first, a@x's
// applied mark covered the unsaved events, which Revoke's rerun skipped as
// applied; their alert, staged by the first attempt, was overwritten by
// the later batch's stage, and all of the events were reported done: the
// alert lost for good, a@x's state without the 12 failures.
func TestTogetherUnsavedRunsFirst(t *testing.T) {
	clock := time.Now() // the same events in both runs
	clean := runTogetherScenario(t, clock, false)
	if len(clean.alerts) == 0 || clean.failures != 14 || clean.reapply != 0 {
		t.Fatalf("clean run: %+v; want a brute-force alert of a@x, 14 failures, nothing reapplied", clean)
	}
	got := runTogetherScenario(t, clock, true)
	t.Logf("clean run: %+v", clean)
	t.Logf("run with the generation ending under the together batch: %+v", got)
	if !slices.Equal(got.alerts, clean.alerts) {
		t.Errorf("published alerts %v; a single clean run publishes %v", got.alerts, clean.alerts)
	}
	if got.failures != clean.failures {
		t.Errorf("a@x's state holds %d failures; a single clean run leaves %d", got.failures, clean.failures)
	}
	if got.reapply != 0 {
		t.Errorf("%d events were skipped as applied although none was ever saved before", got.reapply)
	}
	if got.done > clean.done {
		t.Errorf("%d events done, more than the %d events", got.done, clean.done)
	}
}

// abandonOutcome is what the Abandon scenario leaves.
type abandonOutcome struct {
	alerts    []string // distinct published alert ids
	published int      // alerts published, duplicates included
	done      int
	seen      time.Time
	next      int64 // a@x's applied mark
	failures  int
	incidents []string
}

func (o abandonOutcome) state() string {
	return fmt.Sprintf("seen %s, applied mark %d, %d failures, incidents %v", o.seen.Format(time.RFC3339), o.next, o.failures, o.incidents)
}

// runAbandonScenario: partition 0 works off a backlog of a@x's n+1
// failed sign-ins (n = 512, one catch-up batch); the first n go ahead, and
// Handle returns while their write travels. With abandon set, the
// generation then ends without Revoke (its last Handle failed) and the
// next generation's Assign abandons the batch in flight (Engine.Abandon);
// the records, never committed, are read again from offset 0 by this
// instance (other false) or by another instance over the same Redis and
// outbox (other true). Without abandon it is one clean generation.
func runAbandonScenario(t *testing.T, start time.Time, abandon, other, lost bool) abandonOutcome {
	t.Helper()
	rs := startRedis(t)
	store, read := gatedRedisStoreAt(t, rs.addr)
	cfg := detector.DefaultConfig()
	cfg.Lateness = 0
	const n = detector.DefaultBatchSize
	events := bruteForceBatch("a@x", n+1, start, 0)
	ctx := context.Background()
	newDetector := func(s detector.Store) (*liveDetector, *recordingPublisher) {
		d, pub, _ := newTestLiveDetector(t, cfg, s)
		d.eng.TrackPositions()
		d.catchUp = detector.DefaultBatchSize
		return d, pub
	}
	d, pub := newDetector(store)
	var done []ingest.Position
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}}); err != nil {
		t.Fatal(err)
	}
	pubs := []*recordingPublisher{pub}
	if abandon {
		hold := make(chan struct{})
		genCtx, endGen := context.WithCancel(ctx)
		if lost {
			store.gate = hold // the write never lands: it fails as the generation ends
		} else {
			store.hold = hold
		}
		// Records as old as their events, with more waiting: a backlog.
		more, err := d.Handle(genCtx, ingestkafka.Batch{Partition: 0, Events: events, Newest: events[n].Time, Behind: 10 * n}, nil)
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, more...)
		if d.eng.Saved() {
			t.Fatal("the batch's write is not in flight")
		}
		if lost {
			endGen()
		} else {
			close(hold) // the write lands, as Abandon waits for it
		}
		defer endGen()
		// No Revoke: the generation ended with its last Handle failed.
		d2 := d
		if other {
			if err := d.Assign(ctx, nil); err != nil { // this instance gets nothing
				t.Fatal(err)
			}
			store2, _ := gatedRedisStoreAt(t, rs.addr)
			var pub2 *recordingPublisher
			d2, pub2 = newDetector(store2)
			d2.outbox = d.outbox // the outbox lives in the shared Redis
			pubs = append(pubs, pub2)
		}
		if err := d2.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}}); err != nil {
			t.Fatal(err)
		}
		d = d2
		done = done[:0] // none was committed: all is read again
	}
	more, err := d.Handle(ctx, ingestkafka.Batch{Partition: 0, Events: events, Newest: time.Now()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done = append(done, more...)
	more, err = d.Revoke(ctx, []int32{0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done = append(done, more...)

	var out abandonOutcome
	for _, p := range pubs {
		p.mu.Lock()
		for _, a := range p.published {
			out.alerts = append(out.alerts, a.Rule+"/"+a.User+"/"+a.ID)
		}
		p.mu.Unlock()
	}
	out.published = len(out.alerts)
	sort.Strings(out.alerts)
	out.alerts = slices.Compact(out.alerts)
	out.done = len(done)
	u := read("a@x")
	out.seen, out.next, out.failures = u.Seen, u.Applied.Next, len(u.Failures)
	for _, inc := range u.Incidents {
		out.incidents = append(out.incidents, fmt.Sprintf("%s@%s", inc.Rule, inc.Start.Format(time.RFC3339)))
	}
	return out
}

// A batch whose write ahead is in flight when a generation ends
// without Revoke is abandoned by the next Assign, which waits for the
// write. Its records are read again, by this instance or another: when
// the write landed the applied marks skip them, when it failed with the
// generation's context they run again; either way the alert staged in the
// outbox is delivered once (the Dedup drops the rerun's copy). Alerts and
// state equal a single clean run.
func TestAbandonedWriteAheadMatchesCleanRun(t *testing.T) {
	start := time.Now().Add(-time.Hour) // the same events in every run
	clean := runAbandonScenario(t, start, false, false, false)
	if len(clean.alerts) == 0 {
		t.Fatalf("clean run raised no alert: %+v", clean)
	}
	for _, c := range []struct{ other, lost bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		t.Run(fmt.Sprintf("other_instance=%v/write_lost=%v", c.other, c.lost), func(t *testing.T) {
			got := runAbandonScenario(t, start, true, c.other, c.lost)
			t.Logf("clean: %v, %d published, %s", clean.alerts, clean.published, clean.state())
			t.Logf("abandoned: %v, %d published, %s", got.alerts, got.published, got.state())
			if !slices.Equal(got.alerts, clean.alerts) || got.published != clean.published {
				t.Errorf("published %v (%d with duplicates); a clean run publishes %v (%d)", got.alerts, got.published, clean.alerts, clean.published)
			}
			if got.state() != clean.state() {
				t.Errorf("a@x's state: %s; a clean run leaves %s", got.state(), clean.state())
			}
			if got.done != clean.done {
				t.Errorf("%d events done in the last generation; a clean run has %d", got.done, clean.done)
			}
		})
	}
}
