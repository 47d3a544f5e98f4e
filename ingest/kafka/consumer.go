package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/atod-project/atod/ingest"
)

// Handler is what the consumer feeds: in atod, the detector and the alert
// publisher. The consumer calls it from one goroutine, never two methods
// at once, and waits for each call; a slow handler slows fetching down
// (the buffers between are bounded) instead of piling records up.
//
// Every method but Assign appends to done the positions of the events the
// handler finished during the call (from this call or held from earlier
// ones) and returns the extended slice. Finished means everything that
// must survive a crash is durable: state saved, alerts published. A
// partition's offset is committed only past records all of whose events
// are finished. A non-nil error ends Run, which returns it; an error
// caused by ctx's cancellation is not reported further.
type Handler interface {
	// Assign is called when this instance is given partitions, before any
	// of their events: the place to recover what a previous owner of the
	// partitions left half done.
	Assign(ctx context.Context, parts []Assignment) error
	// Handle takes the events of consecutive records of one partition, in
	// offset order, each with its Pos set. The slice is the consumer's
	// and reused after the call; the handler copies what it keeps. After
	// an error, which may leave any first part of the batch taken, no
	// later record of the partition comes in this generation (Revoke
	// does): the handler never sees a partition's records with a gap.
	Handle(ctx context.Context, b Batch, done []ingest.Position) ([]ingest.Position, error)
	// Tick is called every Options.Tick, so that the handler can release
	// what it holds by wall-clock time when a partition goes quiet.
	Tick(ctx context.Context, now time.Time, done []ingest.Position) ([]ingest.Position, error)
	// Revoke is called when the partitions leave this instance (a
	// rebalance, a shutdown): the handler finishes what it holds from
	// them and should run now. Events not reported done are read again by
	// the partitions' next owner. ctx carries the time left for it.
	Revoke(ctx context.Context, parts []int32, done []ingest.Position) ([]ingest.Position, error)
}

// Assignment is a partition given to this instance.
type Assignment struct {
	Partition int32
	// Since is when the oldest record not yet committed was fetched, by
	// whichever instance committed last: what was done with the records
	// from the committed offset on (alerts published) happened after it.
	// Zero when the group never committed for the partition.
	Since time.Time
}

// Batch is what one round of fetching yielded for one partition.
type Batch struct {
	Partition int32
	Events    []ingest.Event
	// Newest is the latest Kafka timestamp among the batch's records:
	// far behind the clock, the partition is working off a backlog.
	Newest time.Time
	// Behind is how many records the partition held after the batch's
	// last one when that one was fetched: many, and the partition is
	// working off a backlog whatever the timestamps say.
	Behind int64
}

// Options are what New needs besides the config.
type Options struct {
	// Formats are the formats Config.Format may name and that "auto"
	// detects, in sniffing order; the canonical format is always known.
	Formats []ingest.Format
	Log     *zap.Logger
	// LookupEnv reads EnvPassword; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Tick is how often Handler.Tick is called; 0 means 50ms.
	Tick time.Duration
	// DrainTimeout bounds Revoke and the last commit when a generation
	// ends; 0 means 10s. It must stay below the rebalance timeout.
	DrainTimeout time.Duration
	// OnHandled, when set, is called with the time from a record's
	// timestamp to the moment its last event was handled.
	OnHandled func(latency time.Duration)
}

// Consumer is one member of the consumer group.
type Consumer struct {
	cfg  Config
	opts Options
	conn *Conn
	log  *zap.Logger
	dlq  *kafka.Writer // nil: dead letters are logged only

	mu     sync.Mutex
	stats  Stats
	health error
}

// New validates cfg and reads its secrets. It does not connect.
func New(cfg Config, opts Options) (*Consumer, error) {
	names := make([]string, 0, len(opts.Formats)+1)
	names = append(names, ingest.Canonical.Name)
	for _, f := range opts.Formats {
		names = append(names, f.Name)
	}
	if err := cfg.Validate(names); err != nil {
		return nil, err
	}
	conn, err := NewConn(cfg, opts.LookupEnv)
	if err != nil {
		return nil, err
	}
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	if opts.Tick <= 0 {
		opts.Tick = 50 * time.Millisecond
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 10 * time.Second
	}
	c := &Consumer{cfg: cfg, opts: opts, conn: conn, log: opts.Log.Named("kafka").With(zap.String("topic", cfg.Topic), zap.String("group", cfg.Group)),
		health: errors.New("not yet a member of the group")}
	if cfg.DLQTopic != "" {
		c.dlq = newDLQWriter(conn, cfg.DLQTopic)
	}
	c.stats.Partitions = map[int32]PartitionStats{}
	return c, nil
}

// Conn returns the connection settings, for the producers that share them.
func (c *Consumer) Conn() *Conn { return c.conn }

// Run joins the group and feeds h until ctx is cancelled, then finishes
// the current generation (Revoke, last commit, within
// Options.DrainTimeout), leaves the group and returns nil. It returns an
// error when h fails or a partition cannot be read. Every goroutine it
// started has ended when it returns.
func (c *Consumer) Run(ctx context.Context, h Handler) (err error) {
	start := kafka.FirstOffset
	if c.cfg.Start == StartLatest {
		start = kafka.LastOffset
	}
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                c.cfg.Group,
		Brokers:           c.cfg.Brokers,
		Dialer:            c.conn.Dialer,
		Topics:            []string{c.cfg.Topic},
		HeartbeatInterval: c.cfg.HeartbeatInterval,
		SessionTimeout:    c.cfg.SessionTimeout,
		RebalanceTimeout:  c.cfg.RebalanceTimeout,
		JoinGroupBackoff:  time.Second,
		StartOffset:       start,
		// Partitions added to the topic start a new generation.
		WatchPartitionChanges: true,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			c.log.Debug("kafka group", zap.String("msg", fmt.Sprintf(msg, args...)))
		}),
	})
	if err != nil {
		return fmt.Errorf("kafka consumer group: %w", err)
	}
	defer func() {
		err = errors.Join(err, cg.Close())
		if c.dlq != nil {
			err = errors.Join(err, c.dlq.Close())
		}
		c.setHealth(errors.New("stopped"))
	}()
	for {
		gen, err := cg.Next(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			// Logged once, by setHealth; kafka-go backs off between tries.
			c.setHealth(fmt.Errorf("joining the group: %w", err))
			continue
		}
		s := newSession(c, gen, h)
		errc := make(chan error, 1)
		gen.Start(func(gctx context.Context) { errc <- s.run(ctx, gctx) })
		var serr error
		select {
		case serr = <-errc:
		case <-ctx.Done():
			// Closing the group ends the generation and waits until the
			// session has finished, committed and returned.
			_ = cg.Close()
			serr = <-errc
		}
		if serr != nil {
			return serr
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// Health returns nil while the consumer is a member of the group with its
// commits going through, and what is wrong otherwise: the readiness probe.
func (c *Consumer) Health() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.health
}

func (c *Consumer) setHealth(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if (c.health == nil) != (err == nil) {
		if err == nil {
			c.log.Info("consuming")
		} else {
			c.log.Warn("not consuming", zap.Error(err))
		}
	}
	c.health = err
}
