package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/atod-project/atod/alerts"
	alertskafka "github.com/atod-project/atod/alerts/kafka"
	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
	"github.com/atod-project/atod/ingest/syslog"
)

// runCmd implements "atod run": Kafka in, state in Redis, alerts out to
// Kafka, until SIGTERM or SIGINT cancels ctx.
func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("atod run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML config `file` (keys of DESIGN.md and docs/kafka.md)")
	logLevel := fs.String("log-level", "info", "stderr logging: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: atod run --config FILE\n\nLive mode: consume kafka.topic, detect, publish alerts to kafka.alerts_topic;\nor, with a follow: section, follow a local log file and write alerts to stdout.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("run: unexpected argument %q", fs.Arg(0))}
	}
	if *configPath == "" {
		return usageError{errors.New("run: --config is required")}
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return usageError{err}
	}
	// hooks: and sinks: are checked whether or not a hook or sink is
	// configured: a bad value (hooks.workers 0) stays wrong until the day
	// one is added otherwise.
	if cfg.Follow != nil {
		if err := errors.Join(cfg.validate(), cfg.Follow.validate(), cfg.validateResponse()); err != nil {
			return usageError{err}
		}
	} else if err := errors.Join(cfg.validateRun(), cfg.validateResponse()); err != nil {
		return usageError{err}
	}
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		return usageError{err}
	}
	defer log.Sync() //nolint:errcheck // stderr
	if cfg.Follow != nil {
		return runFollow(ctx, &cfg, log, stdout)
	}
	return runLive(ctx, &cfg, log, nil)
}

// validateRun checks what run needs beyond every command's keys; the
// consumer's own keys are checked by ingestkafka.New.
func (c *fileConfig) validateRun() error {
	var errs []error
	errs = append(errs, c.validate(), c.Ops.validate())
	if !validAlertsTopic(c.Kafka.AlertsTopic) {
		errs = append(errs, fmt.Errorf("kafka.alerts_topic: %q is not a topic name", c.Kafka.AlertsTopic))
	} else if c.Kafka.AlertsTopic == c.Kafka.Topic {
		errs = append(errs, errors.New("kafka.alerts_topic: is kafka.topic: atod would read its own alerts"))
	}
	if c.Kafka.MaxHold < 0 || c.Kafka.MaxHold > c.Detector.Lateness {
		errs = append(errs, fmt.Errorf("kafka.max_hold: must be between 0 and detector.lateness %s, got %s", c.Detector.Lateness, c.Kafka.MaxHold))
	}
	if c.Kafka.BatchEvents < 1 || c.Kafka.BatchEvents > maxBatchEvents {
		errs = append(errs, fmt.Errorf("kafka.batch_events: must be between 1 and %d, got %d", maxBatchEvents, c.Kafka.BatchEvents))
	}
	if c.Kafka.CatchUpEvents < 1 || c.Kafka.CatchUpEvents > maxCatchUpEvents {
		errs = append(errs, fmt.Errorf("kafka.catch_up_events: must be between 1 and %d, got %d", maxCatchUpEvents, c.Kafka.CatchUpEvents))
	}
	return errors.Join(errs...)
}

// maxBatchEvents bounds kafka.batch_events: a batch's keys go to Redis in
// one read and one round trip of scripts, and its events wait for it.
const maxBatchEvents = 65536

// maxCatchUpEvents bounds kafka.catch_up_events: about 0.8 GB of batches.
const maxCatchUpEvents = 1 << 20

func validAlertsTopic(t string) bool {
	probe := ingestkafka.DefaultConfig()
	probe.Topic, probe.DLQTopic = t, ""
	return t != "" && probe.Validate(nil) == nil
}

// runHooks let tests see inside a run; nil in production.
type runHooks struct {
	opsAddr func(string) // the ops server's address, once listening
}

// runLive wires ingest → enrich → detector → alerts and runs until ctx is
// cancelled, then stops within ops.shutdown_timeout.
func runLive(ctx context.Context, cfg *fileConfig, log *zap.Logger, hooks *runHooks) (err error) {
	enr, err := enrich.New(cfg.enrichConfig(), log)
	if err != nil {
		return usageError{err}
	}
	defer enr.Close()

	reg := prometheus.NewRegistry()
	// The consumer's metrics read its counters, so it comes first; its
	// latency observer is the histogram created below.
	var metrics *runMetrics
	consumer, err := ingestkafka.New(cfg.Kafka.Config, ingestkafka.Options{
		Formats:      liveFormats(cfg.Syslog.options()),
		Log:          log,
		Tick:         tickFor(cfg.Kafka.MaxHold),
		DrainTimeout: cfg.Ops.ShutdownTimeout * 3 / 4,
		OnHandled:    func(d time.Duration) { metrics.latency.Observe(d.Seconds()) },
	})
	if err != nil {
		return usageError{err}
	}
	metrics = newRunMetrics(reg, consumer)
	if cfg.Kafka.TLS.InsecureSkipVerify {
		log.Warn("kafka.tls.insecure_skip_verify: the brokers' certificates are not checked; anyone on the path can read the events and the SASL password (for tests only)")
	}

	store, outbox, rs, closeStore, err := openRunStore(ctx, cfg, log, metrics.errors)
	if err != nil {
		if ctx.Err() != nil {
			// Stopped while still connecting (a service manager stopping
			// a unit that starts): a stop asked for, not a failure.
			log.Info("stopped while starting", zap.Error(err))
			return nil
		}
		return err
	}
	if rs != nil {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "atod_state_dropped_total",
			Help: "Detector states in Redis that could not be read (damaged, or from an atod version this one does not read): their account or address started afresh."},
			func() float64 { return float64(rs.Dropped()) }))
	}
	defer func() { err = errors.Join(err, closeStore()) }()
	conn := consumer.Conn()
	pub := alertskafka.New(cfg.Kafka.AlertsTopic, alertskafka.Options{Brokers: conn.Brokers, Transport: conn.Transport, Log: log})
	defer func() { err = errors.Join(err, pub.Close()) }()
	// Revocation hooks and SOC sinks: each alert is handed to their durable
	// queue before the offsets of its events are committed. The alert the
	// revocation limit raises also goes to the alerts topic, the SOC's
	// main feed (the response stops before the publisher closes).
	var resp *response
	if cfg.hasResponse() {
		client, recordKey := besideState(rs)
		topic := alerts.Integration{Name: "alerts_topic", Notifier: alerts.NotifierFunc(func(ctx context.Context, a detector.Alert) (bool, error) {
			err := pub.Publish(ctx, []detector.Alert{a})
			return err != nil, err
		})}
		if resp, err = newResponse(cfg, responseOptions{Log: log, Redis: client, RecordKey: recordKey, Metrics: reg,
			LimitSinks: []alerts.Integration{topic}}); err != nil {
			return usageError{err}
		}
		resp.start(ctx)
		defer func() { err = errors.Join(err, resp.stop(ctx)) }()
	}
	eng, err := detector.NewEngine(cfg.Detector, store, log)
	if err != nil {
		return usageError{err}
	}
	// Records after the last commit come again after a crash; the state
	// tells which of them it already holds.
	eng.TrackPositions()

	var stateTTL time.Duration
	if rs != nil {
		stateTTL = rs.StateTTL()
	}
	det := &liveDetector{stateTTL: stateTTL, eng: eng, enr: enr, pub: pub, resp: resp, outbox: outbox, dedup: alerts.NewDelivered(cfg.Detector.IncidentGap, dedupRemembered),
		keyBase: cfg.Kafka.Group + "/" + cfg.Kafka.Topic, maxHold: cfg.Kafka.MaxHold, batch: cfg.Kafka.BatchEvents, catchUp: cfg.Kafka.CatchUpEvents, lateness: cfg.Detector.Lateness,
		log: log.Named("live"), metrics: metrics, now: time.Now, parts: map[int32]*livePartition{}}

	ops, err := startOps(cfg.Ops, reg, func() error { return ready(consumer, store, outbox) }, log)
	if err != nil {
		return usageError{err}
	}
	defer func() { err = errors.Join(err, ops.Close()) }()
	if hooks != nil && hooks.opsAddr != nil && ops != nil {
		hooks.opsAddr(ops.Addr())
	}
	log.Info("atod run started", zap.Strings("brokers", cfg.Kafka.Brokers), zap.String("topic", cfg.Kafka.Topic),
		zap.String("group", cfg.Kafka.Group), zap.String("alerts_topic", cfg.Kafka.AlertsTopic),
		zap.Duration("lateness", cfg.Detector.Lateness), zap.Duration("max_hold", cfg.Kafka.MaxHold), zap.Int("batch_events", cfg.Kafka.BatchEvents), zap.Int("catch_up_events", cfg.Kafka.CatchUpEvents))
	return runBounded(ctx, cfg.Ops.ShutdownTimeout, log, func() error { return consumer.Run(ctx, det) })
}

// runBounded runs f and, once ctx is cancelled, waits at most bound for
// it to return: a stop must not hang on a broker or a Redis that is gone.
// Past the bound it returns an error and leaves f running; the caller is
// about to exit.
func runBounded(ctx context.Context, bound time.Duration, log *zap.Logger, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	log.Info("stopping: finishing the events in hand", zap.Duration("bound", bound))
	t := time.NewTimer(bound)
	defer t.Stop()
	select {
	case err := <-done:
		if err == nil {
			log.Info("stopped")
		}
		return err
	case <-t.C:
		return fmt.Errorf("did not stop within ops.shutdown_timeout %s; what was not committed will be read again", bound)
	}
}

// ready is the readiness probe: a member of the group, committing, with
// its state store and outbox answering.
func ready(c *ingestkafka.Consumer, store detector.Store, outbox alerts.Outbox) error {
	if err := c.Health(); err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	for _, dep := range []any{store, outbox} {
		if h, ok := dep.(interface{ Health() error }); ok {
			if err := h.Health(); err != nil {
				return fmt.Errorf("redis: %w", err)
			}
		}
	}
	return nil
}

// tickFor returns how often held events are checked against max_hold: a
// quarter of it, between 5ms and 100ms.
func tickFor(maxHold time.Duration) time.Duration {
	return min(max(maxHold/4, 5*time.Millisecond), 100*time.Millisecond)
}

// liveFormats are the formats kafka.format may name; auto-detection asks
// them in order (formats.go lists them for every command).
func liveFormats(o syslog.Options) []ingest.Format { return formatsWith(o) }
