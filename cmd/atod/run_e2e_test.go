package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/enrich"
	"go.uber.org/zap"
)

// testRunConfig is a config for a broker, with fast group timing.
func testRunConfig(broker string) fileConfig {
	cfg := defaultFileConfig()
	cfg.Kafka.Brokers = []string{broker}
	cfg.Kafka.SessionTimeout = 2 * time.Second
	cfg.Kafka.HeartbeatInterval = 200 * time.Millisecond
	cfg.Kafka.RebalanceTimeout = 5 * time.Second
	cfg.Ops.Listen = "127.0.0.1:0"
	cfg.Ops.ShutdownTimeout = 10 * time.Second
	return cfg
}

// startRun runs atod run in the test's process until cleanup (or the
// returned stop) cancels it; stop returns Run's error.
func startRun(t testing.TB, cfg fileConfig) (stop func() error) {
	return startRunHooked(t, cfg, nil)
}

func startRunHooked(t testing.TB, cfg fileConfig, hooks *runHooks) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	log := zap.NewNop()
	if testing.Verbose() {
		log, _ = newLogger(testWriter{t}, "info")
	}
	go func() { done <- runLive(ctx, &cfg, log, hooks) }()
	var err error
	stopped := false
	stop = func() error {
		if !stopped {
			cancel()
			err, stopped = <-done, true
		}
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

var _ io.Writer = testWriter{}

// expectedAlerts replays events through the detector in memory, as atod
// replay would, for the ids a live run must publish.
func expectedAlerts(t testing.TB, cfg fileConfig, lines [][]byte) []string {
	ids, _ := alertIDs(detectInMemory(t, cfg, lines))
	return ids
}

// detectInMemory returns the alerts of replay over lines.
func detectInMemory(t testing.TB, cfg fileConfig, lines [][]byte) []detector.Alert {
	t.Helper()
	enr, err := enrich.New(cfg.enrichConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enr.Close()
	eng, err := detector.NewEngine(cfg.Detector, detector.NewMemoryStore(cfg.Detector.UserRetention, cfg.Detector.AddrRetention), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	var got []detector.Alert
	p := detector.NewPipeline(eng, func(_ context.Context, a detector.Alert) error { got = append(got, a); return nil })
	for _, l := range lines {
		e, err := parseForTest(l)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Push(context.Background(), enr.Enrich(e)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRunEndToEnd(t *testing.T) {
	broker := startKafka(t, 3)
	cfg := testRunConfig(broker)
	cfg.Kafka.BatchEvents = 5 // small batches change no alert
	lines := bruteForce(20, 12, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	lines = append(lines, []byte(`{"time":"not a time","user":"x@example.org"}`), []byte("\xff\xfe binary junk"))
	want := expectedAlerts(t, cfg, lines[:len(lines)-2])
	if len(want) != 20 {
		t.Fatalf("the scenario raises %d alerts in replay, want 20", len(want))
	}
	produce(t, broker, lines, userKey)
	startRun(t, cfg)

	got := alertsOf(t, readTopic(t, broker, testAlerts, len(want)))
	ids, dups := alertIDs(got)
	if len(dups) > 0 || !equalStrings(ids, want) {
		t.Errorf("alerts on the topic: %d ids, duplicates %v; want the %d of replay", len(ids), dups, len(want))
	}
	for _, a := range got {
		if a.DetectedAt == nil || a.Rule != detector.RuleBruteForce {
			t.Errorf("alert %+v: want a brute_force alert with detected_at", a)
		}
	}
	dead := readTopic(t, broker, testDLQ, 2)
	if len(dead) != 2 {
		t.Fatalf("%d dead letters, want 2", len(dead))
	}
	for i, raw := range [][]byte{lines[len(lines)-2], lines[len(lines)-1]} {
		d := dead[i]
		if string(d.value) != string(raw) || d.headers["atod-dlq-reason"] == "" || d.headers["atod-dlq-topic"] != testTopic {
			t.Errorf("dead letter %d: value %q headers %v; want the original bytes %q with a reason", i, d.value, d.headers, raw)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
