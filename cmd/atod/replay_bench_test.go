package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/atod-project/atod/cmd/atogen/synth"
	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
)

var (
	benchOnce   sync.Once
	benchDir    string
	benchEvents int
	benchErr    error
)

// benchTenant writes, once per test binary, a synthetic tenant of 5,000
// users over 7 days (about 210,000 events, ~270 bytes each).
func benchTenant(b *testing.B) (dir string, events int) {
	b.Helper()
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "atod-bench-")
		if benchErr != nil {
			return
		}
		var t *synth.Tenant
		t, benchErr = synth.Generate(synth.Config{Users: 5000, Days: 7, Seed: 1,
			Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)})
		if benchErr != nil {
			return
		}
		benchEvents = len(t.Events)
		geoip, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "geoip"))
		benchErr = synth.WriteDir(benchDir, t, geoip)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchDir, benchEvents
}

// BenchmarkReplay measures the whole replay path — read, decode, enrich,
// detect, write alerts — on a generated tenant, as `atod replay` runs it.
func BenchmarkReplay(b *testing.B) {
	dir, n := benchTenant(b)
	args := []string{"replay", "--config", filepath.Join(dir, "config.yaml"), "--progress", "0",
		"--log-level", "error", filepath.Join(dir, "events.jsonl")}
	var stderr bytes.Buffer
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if code := run(context.Background(), args, nil, io.Discard, &stderr); code != 0 {
			b.Fatalf("exit %d: %s", code, stderr.String())
		}
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(n), "events/op")
}

// stageInput returns the config and events file of the stage benchmarks:
// ATOD_BENCH_CONFIG and ATOD_BENCH_INPUT when set (such as scripts/bench's
// stream with GeoIP databases of a million networks), else the tenant of
// BenchmarkReplay.
func stageInput(b *testing.B) (config, input string) {
	if in := os.Getenv("ATOD_BENCH_INPUT"); in != "" {
		return os.Getenv("ATOD_BENCH_CONFIG"), in
	}
	dir, _ := benchTenant(b)
	return filepath.Join(dir, "config.yaml"), filepath.Join(dir, "events.jsonl")
}

// BenchmarkReplayStages measures the stages of BenchmarkReplay one at a
// time, in ns per event: reading and parsing (on every core, as replay
// does); then, each on one goroutine over events held in memory,
// enrichment, ordering (the Sequencer) and the rules, whose goroutine in
// replay does nothing else. Replay runs the rules on one core and
// everything else on the other, so the larger of the two sums bounds it.
func BenchmarkReplayStages(b *testing.B) {
	config, input := stageInput(b)
	cfg, err := loadConfig(config)
	if err != nil {
		b.Fatal(err)
	}
	formats, err := inputFormats(autoFormat, cfg.Syslog.options())
	if err != nil {
		b.Fatal(err)
	}
	enr, err := enrich.New(cfg.enrichConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer enr.Close()
	var events []ingest.Event
	src := ingest.Files{Paths: []string{input}, Formats: formats}
	if _, err := src.Run(context.Background(), ingest.HandlerFunc(func(_ context.Context, e ingest.Event) error {
		events = append(events, e)
		return nil
	}), nil); err != nil {
		b.Fatal(err)
	}
	perEvent := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(len(events)*b.N), "ns/event")
	}
	newPipeline := func(b *testing.B) *detector.Pipeline {
		store := detector.NewMemoryStore(cfg.Detector.UserRetention, cfg.Detector.AddrRetention)
		eng, err := detector.NewEngine(cfg.Detector, store, zap.NewNop())
		if err != nil {
			b.Fatal(err)
		}
		return detector.NewPipeline(eng, func(context.Context, detector.Alert) error { return nil })
	}
	enriched := make([]enrich.Event, len(events))
	for i := range events {
		enriched[i] = enr.Enrich(events[i])
	}
	// The batches the rules get, as replay hands them over.
	var batches [][]enrich.Event
	pipe, batch := newPipeline(b), []enrich.Event(nil)
	for i := range enriched {
		var due bool
		if batch, due = pipe.Order(&enriched[i], batch); due {
			batches, batch = append(batches, batch), nil
		}
	}
	batches = append(batches, pipe.OrderFlush(batch))

	b.Run("parse", func(b *testing.B) {
		for b.Loop() {
			if _, err := src.Run(context.Background(), ingest.HandlerFunc(func(context.Context, ingest.Event) error { return nil }), nil); err != nil {
				b.Fatal(err)
			}
		}
		perEvent(b)
	})
	b.Run("enrich", func(b *testing.B) {
		for b.Loop() {
			for i := range events {
				enriched[i] = enr.Enrich(events[i])
			}
		}
		perEvent(b)
	})
	b.Run("order", func(b *testing.B) {
		var batch []enrich.Event
		for b.Loop() {
			pipe := newPipeline(b)
			for i := range enriched {
				var due bool
				if batch, due = pipe.Order(&enriched[i], batch); due {
					batch = batch[:0]
				}
			}
			batch = pipe.OrderFlush(batch)[:0]
		}
		perEvent(b)
	})
	b.Run("rules", func(b *testing.B) {
		for b.Loop() {
			pipe := newPipeline(b)
			for _, batch := range batches {
				if err := pipe.Process(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
		}
		perEvent(b)
	})
}
