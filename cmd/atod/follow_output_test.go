package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// failingStdout refuses every write and keeps what it was asked to write.
type failingStdout struct {
	mu    sync.Mutex
	asked strings.Builder
}

func (w *failingStdout) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.asked.Write(p)
	return 0, errors.New("stdout: broken pipe")
}

func (w *failingStdout) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.asked.String()
}

// With Redis state, a line whose alert could not be written is not counted
// as read (follow mode's guarantee): the next run reads it again, and the
// alert must come out then. The detector saved the incident before the
// alert was written, so the line read again raises nothing, and the alert,
// with its revocation, is lost.
func TestFollowAlertNotWrittenIsNotLost(t *testing.T) {
	rs := startRedis(t)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "signins.log")
	geoip, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "geoip"))
	cfgPath := filepath.Join(dir, "atod.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(`geoip:
  city: %s/atod-test-City.mmdb
  asn: %s/atod-test-ASN.mmdb
follow:
  path: signins.log
  position_file: signins.pos
  from_start: true
redis:
  addrs: [%s]
  allow_plain_keys: true
`, geoip, geoip, rs.addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	events, err := os.ReadFile(filepath.Join("..", "..", "testdata", "scenarios", "stuffing_with_hit", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logPath, events, 0o644); err != nil {
		t.Fatal(err)
	}

	// First run: stdout is broken; atod stops with an error at the first
	// alert.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bad := &failingStdout{}
	var stderr lockedBuffer
	if code := run(ctx, []string{"run", "--config", cfgPath, "--log-level", "warn"}, nil, bad, &stderr); code == 0 {
		t.Fatalf("atod run with a broken stdout exited 0; stderr %s", stderr.String())
	}
	var first struct{ ID, Rule string }
	line, _, _ := strings.Cut(bad.String(), "\n")
	if err := json.Unmarshal([]byte(line), &first); err != nil || first.ID == "" {
		t.Fatalf("first run wrote no alert (%v): %q; stderr %s", err, bad.String(), stderr.String())
	}

	// Second run: stdout works; the line is read again. Once the
	// revocation is out, the rest of the file has been read.
	var revokedAt time.Time
	out, _ := runUntil(t, cfgPath, 20*time.Second, func(s string) bool {
		if strings.Contains(s, first.ID) {
			return true
		}
		if revokedAt.IsZero() && strings.Contains(s, `"action":"revoke_sessions"`) {
			revokedAt = time.Now()
		}
		return !revokedAt.IsZero() && time.Since(revokedAt) > 500*time.Millisecond
	})
	if !strings.Contains(out, first.ID) {
		t.Fatalf("alert %s (%s), refused by stdout in the first run, never came out in the second; second run wrote %q",
			first.ID, first.Rule, out)
	}
}
