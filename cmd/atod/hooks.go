package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/command"
	"github.com/atod-project/atod/alerts/dovecot"
	"github.com/atod-project/atod/alerts/google"
	"github.com/atod-project/atod/alerts/graph"
	"github.com/atod-project/atod/alerts/okta"
	"github.com/atod-project/atod/alerts/queue"
	"github.com/atod-project/atod/alerts/splunk"
	"github.com/atod-project/atod/alerts/syslog"
	"github.com/atod-project/atod/alerts/webhook"
	"github.com/atod-project/atod/detector"
)

// responseOptions are what a command hands newResponse besides the config.
type responseOptions struct {
	Log *zap.Logger
	// Redis holds the queue and the safety limits' ledger (live mode);
	// nil keeps both in memory (replay), where a restart forgets them.
	Redis redis.UniversalClient
	// RecordKey seals the queue's jobs and pseudonymises their ids (the
	// state store's RecordKey); nil keeps them in clear.
	RecordKey []byte
	// LimitSinks receive only the alert the revocation limit raises: the
	// command's own alert output, which every other alert reaches on its
	// own (run's alerts topic, follow's stdout, replay's alert lines).
	LimitSinks     []alerts.Integration
	Stdout, Stderr io.Writer // for "-" paths; nil: the process's
	// AlertsOnStdout says that the command writes every alert to stdout
	// itself (replay without --out, follow mode): a file sink on "-"
	// would print each alert twice there, so it is left out.
	AlertsOnStdout bool
	Metrics        prometheus.Registerer // nil: no Prometheus metrics
}

// response is atod's answer to its alerts: every configured sink and hook
// behind the dispatcher, the durable queue and the runner. Notify is what
// the detector's alerts go to.
type response struct {
	*alerts.Dispatcher
	runner  *alerts.Runner
	memory  *queue.Memory // replay's queue, drained at the end
	counter *alerts.AuditCounter
	drain   time.Duration
	log     *zap.Logger
	closers []func() error

	cancel context.CancelFunc
	done   chan struct{}
}

// alertLines is a limit sink on the command's own alert lines (follow
// mode's stdout, replay's output): the revocation limit's alert is written
// among them, a whole line at a time, and flushed at once. Replay's lines
// carry no detected_at, the wall clock (live is false): DESIGN.md keeps
// them byte for byte the same in every run.
func alertLines(name string, out *alerts.JSONLines, live bool) alerts.Integration {
	return alerts.Integration{Name: name, Notifier: alerts.NotifierFunc(func(ctx context.Context, a detector.Alert) (bool, error) {
		if !live {
			a.DetectedAt = nil
		}
		if retry, err := out.Notify(ctx, a); err != nil {
			return retry, err
		}
		return false, out.Flush()
	})}
}

// newResponse validates the hooks and sinks sections and builds every
// integration; secrets are read here, so a missing one stops the start.
func newResponse(cfg *fileConfig, o responseOptions) (_ *response, err error) {
	if err := cfg.validateResponse(); err != nil {
		return nil, err
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	r := &response{counter: alerts.NewAuditCounter(), drain: cfg.Hooks.DrainTimeout, log: o.Log}
	defer func() {
		if err != nil {
			err = errors.Join(err, r.closeFiles())
		}
	}()
	sinks, err := r.buildSinks(&cfg.Sinks, o)
	if err != nil {
		return nil, err
	}
	hooks, err := buildHooks(&cfg.Hooks)
	if err != nil {
		return nil, err
	}
	auditW, err := r.open(cfg.Hooks.Audit, o.Stderr)
	if err != nil {
		return nil, fmt.Errorf("hooks.audit.path: %w", err)
	}
	audit := alerts.Audits(alerts.NewAuditLog(auditW, o.Log), r.counter, newResponseMetrics(o.Metrics))

	var q alerts.Queue
	var ledger alerts.Ledger
	if o.Redis != nil {
		rq, err := queue.NewRedis(o.Redis, cfg.Hooks.Queue, nil)
		if err != nil {
			return nil, prefixed("hooks.", err)
		}
		rq.SealWith(o.RecordKey)
		q, ledger = rq, rq
	} else {
		r.memory = queue.NewMemory(cfg.Hooks.Queue.Retention, nil)
		q, ledger = r.memory, r.memory
	}
	names := func(ins []alerts.Integration) []string {
		var out []string
		for _, in := range ins {
			out = append(out, in.Name)
		}
		return out
	}
	if cfg.Hooks.DryRun {
		o.Log.Warn("hooks.dry_run: revocations are logged and audited, not carried out")
	}
	r.Dispatcher, err = alerts.NewDispatcher(alerts.DispatcherOptions{Queue: q, Ledger: ledger, Sinks: names(sinks),
		Hooks: names(hooks), LimitSinks: names(o.LimitSinks), Limits: cfg.Hooks.Limits, Audit: audit, Log: o.Log})
	if err != nil {
		return nil, prefixed("hooks.", err)
	}
	r.runner, err = alerts.NewRunner(alerts.RunnerOptions{Queue: q, Integrations: append(append(sinks, hooks...), o.LimitSinks...),
		Retrier: alerts.NewRetrier(cfg.Hooks.Retry, o.Log), Audit: audit, Log: o.Log, Workers: cfg.Hooks.Workers,
		RevokeWorkers: cfg.Hooks.RevokeWorkers,
		Lease:         cfg.Hooks.Lease, MaxAge: cfg.Hooks.MaxAge, DryRun: cfg.Hooks.DryRun})
	if err != nil {
		return nil, err
	}
	o.Log.Info("response ready", zap.Strings("sinks", names(sinks)), zap.Strings("hooks", names(hooks)),
		zap.Bool("durable_queue", o.Redis != nil))
	return r, nil
}

func (r *response) buildSinks(s *sinksConfig, o responseOptions) ([]alerts.Integration, error) {
	var out []alerts.Integration
	if s.File != nil && s.File.Path == "-" && o.AlertsOnStdout {
		o.Log.Warn(`sinks.file.path "-": this command writes every alert to stdout already; the file sink is left out`)
	} else if s.File != nil {
		w, err := r.open(*s.File, o.Stdout)
		if err != nil {
			return nil, fmt.Errorf("sinks.file.path: %w", err)
		}
		out = append(out, alerts.Integration{Name: "file", Notifier: alerts.NewLineSink(w)})
	}
	if s.Webhook != nil {
		c, err := webhook.New(*s.Webhook, webhook.Options{})
		if err != nil {
			return nil, prefixed("sinks.webhook.", err)
		}
		out = append(out, alerts.Integration{Name: "webhook_sink", Notifier: c})
	}
	if s.Splunk != nil {
		c, err := splunk.New(*s.Splunk, splunk.Options{})
		if err != nil {
			return nil, prefixed("sinks.splunk.", err)
		}
		out = append(out, alerts.Integration{Name: "splunk", Notifier: c})
	}
	if s.Syslog != nil {
		c, err := syslog.New(*s.Syslog, syslog.Options{Version: version})
		if err != nil {
			return nil, prefixed("sinks.syslog.", err)
		}
		warnPlainSyslog(s.Syslog, o.Log)
		r.closers = append(r.closers, c.Close)
		out = append(out, alerts.Integration{Name: "syslog", Notifier: c})
	}
	if s.Command != nil {
		c, err := command.New(*s.Command)
		if err != nil {
			return nil, prefixed("sinks.command.", err)
		}
		out = append(out, alerts.Integration{Name: "command_sink", Notifier: c})
	}
	return out, nil
}

func buildHooks(h *hooksConfig) ([]alerts.Integration, error) {
	var out []alerts.Integration
	add := func(name string, rv alerts.Revoker, err error) error {
		if err != nil {
			return prefixed("hooks."+name+".", err)
		}
		out = append(out, alerts.Integration{Name: name, Revoker: rv})
		return nil
	}
	var errs []error
	if h.Graph != nil {
		c, err := graph.New(*h.Graph, graph.Options{})
		errs = append(errs, add("graph", c, err))
	}
	if h.Google != nil {
		c, err := google.New(*h.Google, google.Options{})
		errs = append(errs, add("google", c, err))
	}
	if h.Okta != nil {
		c, err := okta.New(*h.Okta, okta.Options{})
		errs = append(errs, add("okta", c, err))
	}
	if h.Dovecot != nil {
		c, err := dovecot.New(*h.Dovecot, dovecot.Options{})
		errs = append(errs, add("dovecot", c, err))
	}
	if h.Webhook != nil {
		c, err := webhook.New(*h.Webhook, webhook.Options{})
		errs = append(errs, add("webhook", c, err))
	}
	if h.Command != nil {
		c, err := command.New(*h.Command)
		errs = append(errs, add("command", c, err))
	}
	return out, errors.Join(errs...)
}

// open returns a rotating file for f, or std for "-".
func (r *response) open(f fileOutConfig, std io.Writer) (io.Writer, error) {
	if f.Path == "-" {
		return std, nil
	}
	rf, err := alerts.OpenRotating(f.Path, int64(f.MaxSizeMB)<<20, f.MaxBackups)
	if err != nil {
		return nil, err
	}
	r.closers = append(r.closers, rf.Close)
	return rf, nil
}

func (r *response) closeFiles() error {
	var errs []error
	for _, c := range r.closers {
		errs = append(errs, c())
	}
	r.closers = nil
	return errors.Join(errs...)
}

// start runs the workers until stop.
func (r *response) start(ctx context.Context) {
	ctx, r.cancel = context.WithCancel(ctx)
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		_ = r.runner.Run(ctx)
	}()
}

// stop waits, for replay's in-memory queue, until the queued work is done
// or hooks.drain_timeout passes, then stops the workers and closes files.
// Live mode's queue is durable: what is left is resumed by the next start.
// Work left in memory is an error: the exit status says it was lost, not
// only a log line.
func (r *response) stop(ctx context.Context) error {
	if r == nil {
		return nil
	}
	var lost error
	if r.memory != nil {
		// An interrupted run does not wait for the queue, but says what
		// it leaves: a queue in memory is lost with the process.
		wait := r.drain
		if ctx.Err() != nil {
			wait = 0
		}
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), wait)
		if left := r.memory.Drain(dctx); left > 0 {
			r.log.Error("stopping with work queued in memory (no redis.addrs); it is lost with this process",
				zap.Int("jobs", left), zap.Bool("interrupted", ctx.Err() != nil), zap.Duration("drain_timeout", r.drain))
			lost = fmt.Errorf("%d hook and sink jobs were not carried out before stopping (hooks.drain_timeout %s)", left, r.drain)
		}
		cancel()
	}
	if r.cancel != nil {
		r.cancel()
		<-r.done
	}
	for _, c := range r.counter.Snapshot() {
		r.log.Info("response", zap.String("event,target,outcome,reason", c.Key), zap.Int64("count", c.Value))
	}
	return errors.Join(lost, r.closeFiles())
}

// newResponseMetrics is the audit's metric hook for Prometheus: actions by
// event, target, outcome and reason, and the time from decision to done.
func newResponseMetrics(reg prometheus.Registerer) alerts.Auditor {
	if reg == nil {
		return nil
	}
	actions := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atod_response_actions_total",
		Help: "Revocation decisions, revocations and sink deliveries, by outcome and reason (the audit log, counted)."},
		[]string{"event", "target", "outcome", "reason"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "atod_response_latency_seconds",
		Help:    "From the decision to the revocation or delivery being done.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}}, []string{"event", "target"})
	reg.MustRegister(actions, latency)
	return alerts.AuditFunc(func(rec alerts.AuditRecord) {
		actions.WithLabelValues(rec.Event, rec.Target, rec.Outcome, rec.Reason).Inc()
		if rec.Outcome == alerts.OutcomeDone && rec.LatencyMS > 0 {
			latency.WithLabelValues(rec.Event, rec.Target).Observe(rec.LatencyMS / 1000)
		}
	})
}

// emit adapts the response to the detector pipeline's emit.
func (r *response) emit(ctx context.Context, a detector.Alert) error {
	_, err := r.Notify(ctx, a)
	return err
}

// openResponse starts the hooks and sinks for replay --enable-hooks, with
// an in-memory queue; nil without the flag.
func (r *replay) openResponse(ctx context.Context, out *alerts.JSONLines) (*response, error) {
	if !r.enableHooks {
		return nil, nil
	}
	if !r.cfg.hasResponse() {
		return nil, usageError{errors.New("--enable-hooks: the config has no hooks or sinks section to carry out")}
	}
	resp, err := newResponse(&r.cfg, responseOptions{Log: r.log, AlertsOnStdout: r.alertsOnStdout,
		LimitSinks: []alerts.Integration{alertLines("alert_lines", out, false)}})
	if err != nil {
		return nil, usageError{err}
	}
	r.log.Warn("--enable-hooks: this replay carries out revocations and feeds the sinks, as atod run does")
	resp.start(ctx)
	return resp, nil
}
