package main

import (
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// httpGet returns the status and body of url.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls cond every 20ms for up to 30s (a safety net: the test
// fails on the condition, not on a time).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// While Redis does not answer, detection pauses (readiness says why) and
// resumes when it is back, with nothing lost; /metrics counts it all.
func TestRunRedisOutage(t *testing.T) {
	rs := startRedis(t)
	broker := startKafka(t, 2)
	cfg := testRunConfig(broker)
	cfg.Redis.Addrs, cfg.Redis.AllowPlainKeys = []string{rs.addr}, true
	cfg.Redis.ReadTimeout, cfg.Redis.WriteTimeout = 200*time.Millisecond, 200*time.Millisecond
	cfg.Redis.RetryBackoffMin, cfg.Redis.RetryBackoffMax = 10*time.Millisecond, 100*time.Millisecond
	lines := staggered(60, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	want := expectedAlerts(t, cfg, lines)
	half := len(lines) / 2

	addr := make(chan string, 1)
	stop := startRunHooked(t, cfg, &runHooks{opsAddr: func(a string) { addr <- a }})
	base := "http://" + <-addr
	waitFor(t, "readiness", func() bool { code, _ := httpGet(t, base+"/readyz"); return code == 200 })
	produce(t, broker, lines[:half], userKey)
	readTopic(t, broker, testAlerts, 1)

	_ = rs.cmd.Process.Signal(syscall.SIGSTOP)
	produce(t, broker, lines[half:], userKey)
	waitFor(t, "not ready during the outage", func() bool {
		code, body := httpGet(t, base+"/readyz")
		return code == 503 && strings.Contains(body, "redis")
	})
	_ = rs.cmd.Process.Signal(syscall.SIGCONT)

	got := alertsOf(t, readTopic(t, broker, testAlerts, len(want)))
	ids, dups := alertIDs(got)
	if len(dups) > 0 || !equalStrings(ids, want) {
		t.Errorf("%d alerts (duplicates %v), want the %d of replay", len(ids), dups, len(want))
	}
	if code, _ := httpGet(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz: %d", code)
	}
	_, metrics := httpGet(t, base+"/metrics")
	for _, m := range []string{`atod_alerts_total{action="alert",rule="brute_force"}`, "atod_events_in_total", "atod_events_processed_total",
		"atod_processing_latency_seconds_bucket", `atod_kafka_lag{partition="0"}`, `atod_watermark_seconds{partition="1"}`, "atod_late_events_total", "atod_events_duplicate_total", "atod_state_conflicts_total", "atod_state_dropped_total 0"} {
		if !strings.Contains(metrics, m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	if strings.Contains(metrics, `atod_errors_total{component="redis"} 0`) && strings.Contains(metrics, `atod_errors_total{component="outbox"} 0`) {
		t.Error("/metrics counted no redis error during the outage")
	}
	if err := stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}

// A stop with Redis gone still ends within ops.shutdown_timeout: what
// could not be finished is left uncommitted for the next run.
func TestRunShutdownBoundedDuringOutage(t *testing.T) {
	rs := startRedis(t)
	broker := startKafka(t, 1)
	cfg := testRunConfig(broker)
	cfg.Ops.ShutdownTimeout = 2 * time.Second
	cfg.Redis.Addrs, cfg.Redis.AllowPlainKeys = []string{rs.addr}, true
	// go-redis bounds a call by its read timeout, not by its context:
	// the bound holds only with timeouts below it.
	cfg.Redis.ReadTimeout, cfg.Redis.WriteTimeout = 200*time.Millisecond, 200*time.Millisecond
	lines := staggered(20, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	stop := startRun(t, cfg)
	produce(t, broker, lines[:len(lines)/2], userKey)
	readTopic(t, broker, testAlerts, 1)
	_ = rs.cmd.Process.Signal(syscall.SIGSTOP)
	defer rs.cmd.Process.Signal(syscall.SIGCONT)
	produce(t, broker, lines[len(lines)/2:], userKey)
	err := stop()
	if err != nil && strings.Contains(err.Error(), "did not stop within") {
		t.Errorf("stop overran its bound: %v", err)
	}
}
