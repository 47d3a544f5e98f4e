package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/syslog"
	"github.com/atod-project/atod/ingest/tail"
)

// followConfig is the `follow:` section: atod run on a small installation
// follows a local log file (Dovecot's, Postfix's, any supported format)
// instead of consuming Kafka.
type followConfig struct {
	Path         string `yaml:"path"`
	PositionFile string `yaml:"position_file"` // resume point across restarts; "" starts at the end each time
	FromStart    bool   `yaml:"from_start"`    // without a saved position, read the file from its start
	Format       string `yaml:"format"`        // a --format name; "" or auto detects per line
	// MaxFuture dead-letters a line whose event is further ahead of the
	// clock (see kafka.max_future); nil: 24h, 0: off.
	MaxFuture *time.Duration `yaml:"max_future"`
}

// maxFuture is follow.max_future with its default.
func (f *followConfig) maxFuture() time.Duration {
	if f.MaxFuture == nil {
		return ingest.DefaultMaxFuture
	}
	return *f.MaxFuture
}

func (f *followConfig) validate() error {
	var errs []error
	if f.Path == "" {
		errs = append(errs, errors.New("follow.path: required"))
	}
	if f.MaxFuture != nil && *f.MaxFuture < 0 {
		errs = append(errs, fmt.Errorf("follow.max_future: must not be negative (0 turns the check off), got %s", *f.MaxFuture))
	}
	if _, err := followFormat(f.Format, syslog.Options{}); err != nil {
		errs = append(errs, fmt.Errorf("follow.format: %w", err))
	}
	return errors.Join(errs...)
}

func (f *followConfig) resolve(dir string) {
	for _, p := range []*string{&f.Path, &f.PositionFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// followFormat is one Format for a followed file: the named one, or one
// that detects the format of each line.
func followFormat(name string, o syslog.Options) (ingest.Format, error) {
	fs, err := inputFormats(name, o)
	if err != nil {
		return ingest.Format{}, err
	}
	if len(fs) == 1 {
		return fs[0], nil
	}
	return ingest.Format{Name: autoFormat, New: func() ingest.Decoder {
		d, _ := ingest.NewAutoDecoder(fs) // fs is never empty
		return d
	}}, nil
}

// runFollow follows cfg.Follow.Path: each line is decoded, enriched and
// detected at once (a file written by one server is already in time order,
// so nothing is held back), and its position is saved only after that, so
// a restart neither rereads nor skips. Alerts go to stdout as JSON lines
// and to the configured sinks and hooks.
func runFollow(ctx context.Context, cfg *fileConfig, log *zap.Logger, stdout io.Writer) (err error) {
	format, err := followFormat(cfg.Follow.Format, cfg.Syslog.options())
	if err != nil {
		return usageError{err}
	}
	enr, err := enrich.New(cfg.enrichConfig(), log)
	if err != nil {
		return usageError{err}
	}
	defer enr.Close()
	store, rs, closeStore, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeStore()) }()
	eng, err := detector.NewEngine(cfg.Detector, store, log)
	if err != nil {
		return usageError{err}
	}
	out := alerts.NewJSONLines(stdout)
	var resp *response
	if cfg.hasResponse() {
		client, recordKey := besideState(rs)
		if resp, err = newResponse(cfg, responseOptions{Log: log, Redis: client, RecordKey: recordKey, AlertsOnStdout: true,
			LimitSinks: []alerts.Integration{alertLines("stdout", out, true)}}); err != nil {
			return usageError{err}
		}
		resp.start(ctx)
		defer func() { err = errors.Join(err, resp.stop(ctx)) }()
	}
	// Alerts are written before the state that records their incidents
	// is saved (BeforeSave): written after, one whose output failed, or
	// whose process died in between, was never raised again when its line
	// was read again, since the incident was already in the state. Now a
	// save that fails after the write repeats the alert instead, which the
	// hooks' queue drops by its id.
	pipe := detector.NewPipeline(eng, func(context.Context, detector.Alert) error { return nil })
	pipe.BeforeSave(func(ctx context.Context, as []detector.Alert) error {
		now := time.Now().UTC() // detected_at: follow mode is live mode
		for _, a := range as {
			a.DetectedAt = &now
			if _, err := out.Notify(ctx, a); err != nil {
				return err
			}
			if resp != nil {
				if _, err := resp.Notify(ctx, a); err != nil {
					return err
				}
			}
		}
		return out.Flush()
	})
	handle := ingest.HandlerFunc(func(ctx context.Context, e ingest.Event) error {
		if err := pipe.Push(ctx, enr.Enrich(e)); err != nil {
			return err
		}
		return pipe.Flush(ctx)
	})
	src := tail.Source{Format: format, Config: tail.Config{Path: cfg.Follow.Path, PositionFile: cfg.Follow.PositionFile,
		FromStart: cfg.Follow.FromStart, MaxFuture: cfg.Follow.maxFuture(), Log: log}}
	log.Info("atod run following a file", zap.String("path", cfg.Follow.Path), zap.String("format", format.Name))
	stats, err := src.Run(ctx, handle, nil)
	log.Info("stopped following", zap.Int64("lines", stats.Lines), zap.Int64("events", stats.Events),
		zap.Int64("skipped", stats.Skipped), zap.Int64("dead_letters", stats.DeadLetters))
	return errors.Join(err, out.Flush())
}
