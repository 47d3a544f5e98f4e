package kafka

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/atod-project/atod/ingest"
)

// session is one group generation: it fetches the partitions assigned,
// feeds the handler, commits, and finishes when the generation ends.
type session struct {
	c      *Consumer
	gen    *kafka.Generation
	h      Handler
	log    *zap.Logger
	client *kafka.Client
	parts  []int32
	tracks map[int32]*tracker
	last   map[int32]kafka.OffsetCommit // what was last committed
	in     chan []record                // chunks from the fetchers
	recs   []record                     // received and not yet handled: the round, or what finish hands on
	batch  map[int32][]ingest.Event     // per partition, reused
	newest map[int32]time.Time          // per partition, of the batch
	behind map[int32]int64              // per partition, after the batch (Batch.Behind)
	done   []ingest.Position

	// stopped are the partitions whose records this generation hands on
	// no more: see handle.
	stopped map[int32]bool

	finished      bool      // records were finished since the last commit
	lastCommit    time.Time // of the last commit attempt
	commitFailing bool
	// commitDone is the commit in flight's outcome, nil when none
	// travels; commitAgain asks for one more when it is back (commit.go).
	commitDone  chan commitResult
	commitAgain bool
}

// maxRound is how many records one round gathers before it hands them on
// (it takes whole chunks, so up to maxChunk-1 more): enough for the
// detector's batches, few enough that commits and ticks stay timely.
const maxRound = 4096

func newSession(c *Consumer, gen *kafka.Generation, h Handler) *session {
	s := &session{c: c, gen: gen, h: h, client: c.conn.Client(),
		tracks: map[int32]*tracker{}, last: map[int32]kafka.OffsetCommit{}, stopped: map[int32]bool{},
		batch: map[int32][]ingest.Event{}, newest: map[int32]time.Time{},
		behind: map[int32]int64{}}
	for _, a := range gen.Assignments[c.cfg.Topic] {
		s.parts = append(s.parts, int32(a.ID))
	}
	// A fetcher may hold one chunk in the channel and build the next.
	s.in = make(chan []record, len(s.parts)+1)
	sort.Slice(s.parts, func(i, j int) bool { return s.parts[i] < s.parts[j] })
	s.log = c.log.With(zap.Int32("generation", gen.ID))
	return s
}

// run works until ctx (the consumer's) or gctx (the generation's) ends,
// then finishes. It returns an error only for what should stop atod.
func (s *session) run(ctx, gctx context.Context) error {
	loopCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(gctx, cancel)
	defer stop()

	fetchers, assigned, err := s.prepare(loopCtx)
	if err != nil {
		if loopCtx.Err() != nil {
			return nil
		}
		return err
	}
	if err := s.h.Assign(loopCtx, assigned); err != nil {
		if loopCtx.Err() != nil {
			return nil
		}
		return fmt.Errorf("taking over partitions %v: %w", s.parts, err)
	}
	s.c.update(func(st *Stats) {
		st.Generations++
		clear(st.Partitions)
		for _, p := range s.parts {
			st.Partitions[p] = PartitionStats{Committed: -1}
		}
	})
	s.c.setHealth(nil)
	s.log.Info("joined generation", zap.Int32s("partitions", s.parts))

	fctx, stopFetch := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, f := range fetchers {
		wg.Go(func() { f.run(fctx, s.in) })
	}
	loopErr := s.loop(loopCtx)
	stopFetch()
	wg.Wait()
	return s.finish(ctx, loopErr)
}

// prepare reads the group's last commits and makes a fetcher per
// partition that starts there.
//
// The commit's metadata also lists the records handled beyond the commit
// point. They are read again rather than skipped: skipping them lost an
// event now and then when a partition moved between two instances (about
// one run in ten of TestRunTwoInstancesOneKilled; none in twelve without),
// and reading them again is safe, because the detector's applied marks
// skip what an account's state already holds and the alert dedup drops
// what was published.
func (s *session) prepare(ctx context.Context) ([]*fetcher, []Assignment, error) {
	cfg := &s.c.cfg
	committed := map[int]kafka.OffsetFetchPartition{}
	if len(s.parts) > 0 {
		ps := make([]int, len(s.parts))
		for i, p := range s.parts {
			ps[i] = int(p)
		}
		resp, err := s.client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: cfg.Group, Topics: map[string][]int{cfg.Topic: ps}})
		if err == nil {
			err = resp.Error
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading the group's committed offsets: %w", err)
		}
		for _, p := range resp.Topics[cfg.Topic] {
			committed[p.Partition] = p
		}
	}
	var fetchers []*fetcher
	var assigned []Assignment
	for _, a := range s.gen.Assignments[cfg.Topic] {
		p := int32(a.ID)
		var since time.Time
		if c, ok := committed[a.ID]; ok && c.CommittedOffset == a.Offset && a.Offset >= 0 {
			var err error
			if since, err = decodeMeta(c.Metadata); err != nil {
				s.log.Warn("ignoring commit metadata", zap.Int32("partition", p), zap.Error(err))
				since = time.Time{}
			}
			if since.IsZero() {
				// Committed by something else than atod: no time to go by,
				// so the handler must assume the worst.
				since = time.Unix(0, 0)
			}
		}
		dec, err := newDecoders(cfg.Format, s.c.opts.Formats)
		if err != nil {
			return nil, nil, err
		}
		s.tracks[p] = &tracker{}
		fetchers = append(fetchers, &fetcher{client: s.client, cfg: cfg, partition: p, start: a.Offset,
			dec: dec, log: s.log.With(zap.Int32("partition", p))})
		assigned = append(assigned, Assignment{Partition: p, Since: since})
	}
	if err := s.pinLatest(ctx, fetchers); err != nil {
		return nil, nil, err
	}
	return fetchers, assigned, nil
}

// pinLatest commits, for each partition the group never committed for and
// kafka.start latest, the partition's end as it is now. Otherwise each
// owner would find the end again when it starts: a rebalance before the
// first record would make the next owner start at a later end, skipping
// the records produced in between, which nobody read.
func (s *session) pinLatest(ctx context.Context, fetchers []*fetcher) error {
	var offsets []kafka.OffsetCommit
	for _, f := range fetchers {
		if f.start != kafka.LastOffset {
			continue
		}
		end, err := f.resolve(ctx, kafka.LastOffset)
		if err != nil {
			return err // ctx ended
		}
		f.start = end
		offsets = append(offsets, kafka.OffsetCommit{Partition: int(f.partition), Offset: end, Metadata: encodeMeta(time.Now())})
	}
	if len(offsets) == 0 {
		return nil
	}
	// A failure is no worse than not pinning: the next owner finds the end
	// again. The regular commits go on as usual.
	s.applyCommit(commitResult{offsets: offsets, err: s.sendCommit(ctx, offsets)})
	return nil
}

func (s *session) loop(ctx context.Context) error {
	tick := time.NewTicker(s.c.opts.Tick)
	defer tick.Stop()
	// The ticker retries failed commits and catches what a round did not
	// commit because of CommitInterval.
	commit := time.NewTicker(max(s.c.cfg.CommitInterval, 100*time.Millisecond))
	defer commit.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case rs := <-s.in:
			if ctx.Err() != nil {
				// The generation ended while rs waited (select picks at
				// random among ready cases): finish hands rs on, with the
				// time it has, rather than a round whose every save fails.
				s.recs = append(s.recs[:0], rs...)
				return nil
			}
			err = s.round(ctx, rs)
		case now := <-tick.C:
			s.done, err = s.h.Tick(ctx, now, s.done[:0])
			s.ack(s.done)
		case <-commit.C:
			s.startCommit(ctx)
		case r := <-s.commitDone: // nil, and never ready, when none travels
			s.commitReturned(ctx, r)
		}
		if err == nil && s.finished && time.Since(s.lastCommit) >= s.c.cfg.CommitInterval {
			s.startCommit(ctx)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil // interrupted, not failed
			}
			return err
		}
	}
}

// round handles first and whatever else the fetchers have ready.
func (s *session) round(ctx context.Context, first []record) error {
	s.recs = append(s.recs[:0], first...)
	for len(s.recs) < maxRound {
		select {
		case rs := <-s.in:
			s.recs = append(s.recs, rs...)
			continue
		default:
		}
		break
	}
	return s.handle(ctx)
}

// finish ends the generation: it hands on what was fetched, lets the
// handler finish what it holds, and commits, within DrainTimeout. What it
// cannot finish is read again by the partitions' next owner, so a failure
// here is only an error when atod is stopping (its exit status says so);
// in a rebalance it is logged and the next generation goes on.
func (s *session) finish(ctx context.Context, loopErr error) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.c.opts.DrainTimeout)
	defer cancel()
	var errs []error
	if loopErr != nil {
		errs = append(errs, loopErr)
	} else {
		for len(s.in) > 0 {
			s.recs = append(s.recs, <-s.in...)
		}
		err := s.handle(dctx)
		if err == nil {
			s.done, err = s.h.Revoke(dctx, s.parts, s.done[:0])
			s.ack(s.done)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("finishing partitions %v: %w", s.parts, err))
		}
	}
	s.awaitCommit(dctx)
	if err := s.commit(dctx); err != nil {
		errs = append(errs, err)
	}
	err := errors.Join(errs...)
	s.log.Info("left generation", zap.Int32s("partitions", s.parts), zap.Error(err))
	if loopErr != nil || ctx.Err() != nil {
		return err
	}
	return nil
}
