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

	"github.com/atod-project/atod/cmd/atogen/synth"
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
