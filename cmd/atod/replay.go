package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/redisstore"
	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
)

type replayFlags struct {
	config, city, asn, out, dlq string
	logLevel                    string
	progress                    time.Duration
	lateness                    time.Duration
	redisAddr                   string
	format                      string
	enableHooks                 bool
	// cpuProfile is a hidden flag for performance work: it writes a CPU
	// profile of the run to the file (go tool pprof).
	cpuProfile string
}

// hiddenFlags are registered but left out of --help.
var hiddenFlags = map[string]bool{"cpuprofile": true}

func (f *replayFlags) register(fs *flag.FlagSet, eventsOnly bool) {
	fs.StringVar(&f.config, "config", "", "YAML config `file` (keys of DESIGN.md: geoip, trusted_networks, detector, ...)")
	fs.StringVar(&f.city, "geoip-city", "", "GeoIP2/GeoLite2 City database `file` (overrides geoip.city)")
	fs.StringVar(&f.asn, "geoip-asn", "", "GeoLite2 ASN database `file` (overrides geoip.asn)")
	what := "alert lines"
	if eventsOnly {
		what = "event lines"
	}
	fs.StringVar(&f.out, "out", "", "write "+what+" to `file` instead of stdout")
	fs.StringVar(&f.format, "format", autoFormat, "input `format`: "+strings.Join(formatNames(), ", "))
	fs.StringVar(&f.dlq, "dlq", "", "write unusable input lines to `file` as JSON lines, - for stdout with --out (default: a warning on stderr for each)")
	fs.StringVar(&f.logLevel, "log-level", "info", "stderr logging: debug, info, warn or error")
	fs.DurationVar(&f.progress, "progress", 5*time.Second, "how often to log progress on stderr (0: never)")
	if !eventsOnly {
		fs.DurationVar(&f.lateness, "lateness", 0, "how late an event may arrive and still be ordered (overrides detector.lateness)")
		fs.BoolVar(&f.enableHooks, "enable-hooks", false, "carry out the config's hooks and sinks as atod run does, revocations included "+
			"(off by default: a replay for forensics must not end today's sessions)")
		fs.StringVar(&f.redisAddr, "redis-addr", "", "keep detector state in Redis at `HOST:PORT` (comma-separated: Cluster nodes) instead of memory (overrides redis.addrs; "+
			"needs a pseudonym key, redis.pseudonym_key_file or ATOD_PSEUDONYM_KEY)")
	}
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile to `file`")
}

// printVisibleDefaults is fs.PrintDefaults without the hidden flags.
func printVisibleDefaults(fs *flag.FlagSet) {
	visible := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	visible.SetOutput(fs.Output())
	fs.VisitAll(func(f *flag.Flag) {
		if !hiddenFlags[f.Name] {
			visible.Var(f.Value, f.Name, f.Usage)
			visible.Lookup(f.Name).DefValue = f.DefValue
		}
	})
	visible.PrintDefaults()
}

// replayCmd implements "atod replay" and, with eventsOnly, "atod events".
func replayCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, eventsOnly bool) (err error) {
	name := "replay"
	if eventsOnly {
		name = "events"
	}
	fs := flag.NewFlagSet("atod "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f replayFlags
	f.register(fs, eventsOnly)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: atod %s [flags] FILE...\n\nFILE is a log file, .gz accepted, or - for stdin; several are merged by event time.\n\nFlags:\n", name)
		printVisibleDefaults(fs)
		fmt.Fprintf(stderr, "\n%s", formatHelp())
	}
	files, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if len(files) == 0 {
		return usageError{fmt.Errorf("%s: no input files (use - to read stdin)", name)}
	}
	if err := checkOutputs(files, f.out, f.dlq); err != nil {
		return usageError{err}
	}
	cfg, err := loadConfig(f.config)
	if err != nil {
		return usageError{err}
	}
	if f.city != "" {
		cfg.GeoIP.City = f.city
	}
	if f.asn != "" {
		cfg.GeoIP.ASN = f.asn
	}
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "lateness" { // 0 too: it orders nothing, late is late
			cfg.Detector.Lateness = f.lateness
		}
	})
	if f.redisAddr != "" {
		cfg.Redis.Addrs = strings.Split(f.redisAddr, ",")
	}
	if err := cfg.validate(); err != nil {
		return usageError{err}
	}
	log, err := newLogger(stderr, f.logLevel)
	if err != nil {
		return usageError{err}
	}
	defer log.Sync() //nolint:errcheck // stderr
	inputs, err := inputFormats(f.format, cfg.Syslog.options())
	if err != nil {
		return usageError{err}
	}
	if f.cpuProfile != "" {
		stop, perr := startCPUProfile(f.cpuProfile)
		if perr != nil {
			return perr
		}
		defer func() { err = errors.Join(err, stop()) }()
	}
	r := &replay{log: log, cfg: cfg, eventsOnly: eventsOnly, progress: f.progress, formats: inputs,
		enableHooks: f.enableHooks}
	return r.run(ctx, files, f.out, f.dlq, stdin, stdout)
}

// replayRedisBatch is the batch size of a replay with Redis state: about
// eight times fewer keys per event than the default batch.
const replayRedisBatch = 8192

// replay wires one run of ingest → enrich → detector → alerts.
type replay struct {
	log        *zap.Logger
	cfg        fileConfig
	eventsOnly bool
	progress   time.Duration
	formats    []ingest.Format
	// enableHooks runs the hooks and sinks sections (--enable-hooks).
	enableHooks bool
	// alertsOnStdout: the alert lines go to stdout (no --out).
	alertsOnStdout bool

	events, alerts atomic.Int64
}

func (r *replay) run(ctx context.Context, files []string, outPath, dlqPath string, stdin io.Reader, stdout io.Writer) (err error) {
	enr, err := enrich.New(r.cfg.enrichConfig(), r.log)
	if err != nil {
		return usageError{err}
	}
	defer enr.Close()

	if err := checkInputs(files); err != nil {
		return err
	}
	outs, err := openOutputs(outPath, dlqPath, stdout)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, outs.close()) }()
	var dlq ingest.DeadLetterSink = ingest.DeadLetterLogger(r.log)
	if outs.dlq != nil {
		dlq = ingest.NewDeadLetterWriter(outs.dlq)
	}

	r.alertsOnStdout = onStdout(outPath)
	handle, finish, err := r.handler(ctx, enr, outs.out)
	if err != nil {
		return errors.Join(err, outs.abandon())
	}
	// Only now that the replay will run are earlier outputs emptied.
	if err := outs.empty(); err != nil {
		return errors.Join(err, finish(ctx))
	}
	stopProgress := r.startProgress()
	start := time.Now()
	src := ingest.Files{Paths: files, Stdin: stdin, Log: r.log, Formats: r.formats}
	var (
		stats  ingest.Stats
		runErr error
	)
	// The label tells the ingest goroutines from the detector's in a CPU
	// profile (--cpuprofile; go tool pprof -tags).
	pprof.Do(ctx, pprof.Labels("stage", "ingest"), func(ctx context.Context) {
		stats, runErr = src.Run(ctx, handle, dlq)
	})
	stopProgress()
	// finish also stops the detector's goroutine, so it runs on error too.
	runErr = errors.Join(runErr, finish(ctx))
	interrupted := ctx.Err() != nil
	r.summary(stats, time.Since(start), interrupted)
	if stats.DeadLetters > 0 && outs.dlq == nil {
		// Each went to the log as a warning, which --log-level error
		// hides: the count at least must show.
		r.log.Error("records were dead-lettered to the log only; give --dlq FILE to keep them",
			zap.Int64("dead_letters", stats.DeadLetters))
	}
	if interrupted && runErr == nil {
		// What is written covers only the input read so far: a script
		// must not take it for the whole replay.
		runErr = errors.New("interrupted before the end of the input: the output covers only what was read")
	}
	return runErr
}

// handler returns what each event goes through, and what ends the run.
func (r *replay) handler(ctx context.Context, enr *enrich.Enricher, out io.Writer) (ingest.Handler, func(context.Context) error, error) {
	if r.eventsOnly {
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		h := ingest.HandlerFunc(func(_ context.Context, e ingest.Event) error {
			r.events.Add(1)
			ee := enr.Enrich(e)
			return enc.Encode(&ee)
		})
		return h, func(context.Context) error { return nil }, nil
	}
	store, _, closeStore, err := openStore(ctx, &r.cfg, r.log)
	if err != nil {
		return nil, nil, err
	}
	store = r.writeBehind(store)
	eng, err := detector.NewEngine(r.cfg.Detector, store, r.log)
	if err != nil {
		return nil, nil, usageError{errors.Join(err, closeStore())}
	}
	sink := alerts.NewJSONLines(out)
	resp, err := r.openResponse(ctx, sink)
	if err != nil {
		return nil, nil, errors.Join(err, closeStore())
	}
	pipe := detector.NewPipeline(eng, func(ctx context.Context, a detector.Alert) error {
		r.alerts.Add(1)
		_, err := sink.Notify(ctx, a)
		if err == nil && resp != nil {
			err = resp.emit(ctx, a)
		}
		return err
	})
	if len(r.cfg.Redis.Addrs) > 0 {
		pipe.SetBatchSize(replayRedisBatch)
	}
	// A log has no clock to compare event times with: one event far ahead
	// of the others waits for a second to confirm its time (see
	// detector.Sequencer.ConfirmProgress).
	pipe.ConfirmProgress()
	detect := newStage(ctx, pipe)
	h := ingest.HandlerFunc(func(_ context.Context, e ingest.Event) error {
		r.events.Add(1)
		ee := enr.Enrich(e)
		return detect.add(&ee)
	})
	finish := func(ctx context.Context) error {
		if err := detect.close(); err != nil {
			return errors.Join(err, resp.stop(ctx), closeStore())
		}
		// The input is complete: release what the sequencer holds even if
		// the run was interrupted, so that no alert already due is lost; but
		// an interrupted run waits for a store outage only so long.
		flushCtx := context.WithoutCancel(ctx)
		if ctx.Err() != nil {
			var cancel context.CancelFunc
			flushCtx, cancel = context.WithTimeout(flushCtx, 30*time.Second)
			defer cancel()
		}
		err := detect.flush(flushCtx)
		if late := pipe.Late(); late > 0 {
			r.log.Warn("events arrived later than the allowed lateness; evaluated out of order",
				zap.Int64("late_events", late), zap.Duration("lateness", r.cfg.Detector.Lateness))
		}
		return errors.Join(err, sink.Flush(), resp.stop(ctx), closeStore())
	}
	return h, finish, nil
}

// writeBehind holds a replay's Redis state in memory and writes it back
// once per window of batches (detector.WriteBehind): a replay is the only
// writer of its state, and most keys come back within a window. With
// redis.local_cache_entries 0 it saves batch by batch.
func (r *replay) writeBehind(store detector.Store) detector.Store {
	rt, ok := store.(*redisstore.Retrier)
	if !ok || r.cfg.Redis.LocalCacheEntries <= 0 {
		return store
	}
	r.log.Info("detector state held in memory and written to redis once per window",
		zap.Int("window_events", detector.DefaultWindowEvents), zap.Int("window_keys", detector.DefaultWindowKeys),
		zap.Int("local_cache_entries", r.cfg.Redis.LocalCacheEntries))
	wb := detector.NewWriteBehind(rt, r.cfg.Redis.LocalCacheEntries)
	wb.ExpireAfter(r.cfg.Detector.UserRetention, r.cfg.Detector.AddrRetention)
	return wb
}

func (r *replay) startProgress() (stop func()) {
	if r.progress <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(r.progress)
		defer t.Stop()
		last, lastAt := int64(0), time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				n := r.events.Load()
				r.log.Info("progress", zap.Int64("events", n), zap.Int64("alerts", r.alerts.Load()),
					zap.Float64("events_per_s", float64(n-last)/now.Sub(lastAt).Seconds()))
				last, lastAt = n, now
			}
		}
	}()
	return func() { close(done); <-finished }
}

func (r *replay) summary(s ingest.Stats, elapsed time.Duration, interrupted bool) {
	msg := "replay done"
	if r.eventsOnly {
		msg = "events done"
	}
	if interrupted {
		msg += " (interrupted)"
	}
	r.log.Info(msg,
		zap.Int64("lines", s.Lines), zap.Int64("events", s.Events), zap.Int64("dead_letters", s.DeadLetters),
		zap.Int64("blank_lines", s.Blank), zap.Int64("skipped", s.Skipped), zap.Int64("alerts", r.alerts.Load()),
		zap.Duration("elapsed", elapsed.Round(time.Millisecond)),
		zap.Float64("events_per_s", float64(s.Events)/max(elapsed.Seconds(), 1e-9)))
}

// startCPUProfile writes a CPU profile to path until stop is called.
func startCPUProfile(path string) (stop func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("opening CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, errors.Join(fmt.Errorf("starting CPU profile: %w", err), f.Close())
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}
