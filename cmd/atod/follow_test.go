package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// atod run with a follow: section follows a growing log file, alerts as
// lines arrive, and after a restart resumes where it stopped: nothing is
// read twice, nothing skipped.
func TestRunFollowsFile(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "signins.log")
	geoip, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "geoip"))
	cfgPath := filepath.Join(dir, "atod.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`geoip:
  city: %s/atod-test-City.mmdb
  asn: %s/atod-test-ASN.mmdb
follow:
  path: signins.log
  position_file: signins.pos
  from_start: true
`, geoip, geoip)), 0o644)
	scenario := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "scenarios", name, "events.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	appendLog := func(s string) {
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	// follow runs atod run until want shows in its output, then stops it.
	follow := func(want string) string {
		out, ok := runUntil(t, cfgPath, 20*time.Second, func(s string) bool { return strings.Contains(s, want) })
		if !ok {
			t.Fatalf("no %s alert after 20s; stdout %q", want, out)
		}
		return out
	}

	appendLog(scenario("stuffing_with_hit"))
	first := follow(`"action":"revoke_sessions"`)
	if !strings.Contains(first, `"rule":"credential_stuffing"`) {
		t.Errorf("first run: %s", first)
	}
	if _, err := os.Stat(filepath.Join(dir, "signins.pos")); err != nil {
		t.Fatalf("no position saved: %v", err)
	}
	appendLog(scenario("impossible_travel"))
	second := follow(`"rule":"impossible_travel"`)
	if strings.Contains(second, "credential_stuffing") || strings.Contains(second, "compromise_after_attack") {
		t.Errorf("the restart read old lines again: %s", second)
	}
}

// follow.max_future is 24 h unless set; 0 turns it off, and a negative
// value is refused with the key named.
func TestFollowMaxFuture(t *testing.T) {
	dir := t.TempDir()
	load := func(extra string) (fileConfig, error) {
		p := filepath.Join(dir, "atod.yaml")
		if err := os.WriteFile(p, []byte("follow:\n  path: x.log\n"+extra), 0o644); err != nil {
			t.Fatal(err)
		}
		return loadConfig(p)
	}
	for _, c := range []struct {
		extra string
		want  time.Duration
	}{{"", 24 * time.Hour}, {"  max_future: 0s\n", 0}, {"  max_future: 2h\n", 2 * time.Hour}} {
		cfg, err := load(c.extra)
		if err != nil {
			t.Fatalf("%q: %v", c.extra, err)
		}
		if got := cfg.Follow.maxFuture(); got != c.want {
			t.Errorf("%q: max_future %s, want %s", c.extra, got, c.want)
		}
	}
	cfg, err := load("  max_future: -1h\n")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Follow.validate(); err == nil || !strings.Contains(err.Error(), "follow.max_future") {
		t.Errorf("negative max_future: %v, want an error naming follow.max_future", err)
	}
}

// runUntil runs atod run with the config at cfgPath until done holds for
// its output or timeout passes, then stops it. It returns the output and
// whether done held; a non-zero exit fails the test.
func runUntil(t *testing.T, cfgPath string, timeout time.Duration, done func(stdout string) bool) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	exited := make(chan int)
	go func() {
		exited <- run(ctx, []string{"run", "--config", cfgPath, "--log-level", "warn"}, nil, &stdout, &stderr)
	}()
	deadline := time.Now().Add(timeout)
	ok := done(stdout.String())
	for !ok && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		ok = done(stdout.String())
	}
	cancel()
	if code := <-exited; code != 0 {
		t.Fatalf("atod run exited %d: %s", code, stderr.String())
	}
	return stdout.String(), ok
}
