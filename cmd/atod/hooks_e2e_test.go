package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/ingest/dovecot/dovecottest"
)

// TestRevokeEndsRealDovecotSession is the response end to end: a mail
// client holds an IMAP session on a real Dovecot; atod reads a takeover
// story for that account (15 wrong passwords from Moscow, then a success),
// decides revoke_sessions, and kicks the user through the doveadm HTTP
// API; the test sees Dovecot close the connection. The time from the
// deciding event entering atod to the close is logged, not asserted.
func TestRevokeEndsRealDovecotSession(t *testing.T) {
	const user, password = "anna.koch@example.org", "s3cret"
	srv := dovecottest.Start(t, dovecottest.Options{Users: []dovecottest.User{{Name: user, Password: password}},
		DoveadmAPIKey: "e2e-doveadm-key"})
	closed := dovecottest.HoldIMAP(t, srv.IMAPAddr, user, password)

	dir := t.TempDir()
	keyFile := filepath.Join(dir, "doveadm.key")
	if err := os.WriteFile(keyFile, []byte("e2e-doveadm-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeHooksConfig(t, dir, fmt.Sprintf(`  limits:
    never_revoke: [breakglass@example.org]
  dovecot:
    url: %s
    api_key_file: doveadm.key
`, srv.DoveadmURL))
	events, err := os.ReadFile(filepath.Join("..", "..", "testdata", "scenarios", "brute_force_then_success", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSpace(string(events)), "\n")
	deciding := lines[len(lines)-1] // the successful sign-in from Moscow

	stdin, feed := io.Pipe()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"replay", "--config", cfgPath, "--enable-hooks", "--progress", "0", "-"},
			stdin, &stdout, &stderr)
	}()
	if _, err := io.WriteString(feed, strings.Join(lines[:len(lines)-1], "")); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	if _, err := io.WriteString(feed, deciding+"\n"); err != nil {
		t.Fatal(err)
	}
	feed.Close() // end of input: the detector releases what it holds

	// Dovecot closes the session shortly after answering the kick, so
	// atod may well have exited first.
	select {
	case at := <-closed:
		t.Logf("deciding event to Dovecot closing the IMAP session: %s", at.Sub(sent).Round(time.Microsecond))
	case <-time.After(45 * time.Second):
		t.Fatalf("the session stayed open:\n%s", stderr.String())
	}
	if code := <-done; code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"action":"revoke_sessions"`) {
		t.Errorf("no revoke_sessions alert on stdout:\n%s", stdout.String())
	}
	audit, err := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, l := range strings.Split(strings.TrimSpace(string(audit)), "\n") {
		var r alerts.AuditRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		outcomes = append(outcomes, r.Event+"/"+r.Target+"/"+r.Outcome)
	}
	if got := strings.Join(outcomes, " "); got != "decision//queued revoke/dovecot/done" {
		t.Errorf("audit: %s", got)
	}
}

func TestReplayNeverRevokesUnlessAsked(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "atod.yaml")
	// A hook that would fail loudly if called: its URL refuses connections.
	cfg := "hooks:\n  audit:\n    path: audit.jsonl\n  webhook:\n    url: http://127.0.0.1:1/x\n    allow_http: true\n    secret_env: NO_SUCH_VARIABLE_SET\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	story := filepath.Join("..", "..", "testdata", "scenarios", "brute_force_then_success", "events.jsonl")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"replay", "--config", cfgPath, "--log-level", "warn", story}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "audit.jsonl")); err == nil {
		t.Error("replay without --enable-hooks opened the audit log")
	}
	// With the flag, the missing secret stops the start, naming the key.
	stderr.Reset()
	code := run(context.Background(), []string{"replay", "--config", cfgPath, "--enable-hooks", story}, nil, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "hooks.webhook.secret_file: required") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
}

// lockedBuffer is a bytes.Buffer safe for the writer goroutine and the
// test reading it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// writeHooksConfig writes dir/atod.yaml with the test GeoIP databases
// and a hooks section of the audit log in dir and hooks, the section's
// further keys indented by two spaces, and returns its path.
func writeHooksConfig(t *testing.T, dir, hooks string) string {
	t.Helper()
	geo, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "geoip"))
	cfg := fmt.Sprintf("geoip:\n  city: %s/atod-test-City.mmdb\n  asn: %s/atod-test-ASN.mmdb\nhooks:\n  audit:\n    path: audit.jsonl\n%s", geo, geo, hooks)
	p := filepath.Join(dir, "atod.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// When the revocation limit stops a revocation in a replay with hooks,
// its critical alert is among the alert lines, not only in the sinks:
// two takeovers, a limit of one.
func TestReplayLimitAlertAmongTheAlertLines(t *testing.T) {
	dir := t.TempDir()
	hook := filepath.Join(dir, "revoke.sh")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\nexit 0\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeHooksConfig(t, dir, fmt.Sprintf(`  limits:
    max_revocations: 1
    window: 1h
  command:
    path: %s
`, hook))
	story, err := os.ReadFile(filepath.Join("..", "..", "testdata", "scenarios", "brute_force_then_success", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	other := strings.NewReplacer("anna.koch@", "ben.roth@", `"id":"`, `"id":"b`).Replace(string(story))
	code, stdout, stderr := runCLI(t, string(story)+other, "replay", "--config", cfgPath, "--enable-hooks", "--progress", "0", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var revokes, limits int
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var a struct{ Rule, Action, Severity string }
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		switch {
		case a.Action == "revoke_sessions":
			revokes++
		case a.Rule == "revocation_limit" && a.Severity == "critical":
			limits++
		}
	}
	if revokes != 2 || limits != 1 {
		t.Errorf("%d revoke_sessions alerts and %d limit alerts among the alert lines; want 2 and 1:\n%s", revokes, limits, stdout)
	}
}

// A replay whose hooks could not carry out their jobs within
// hooks.drain_timeout exits 1: the jobs were in memory and are lost with
// the process. It logged "lost" and exited 0 (found by a review of the
// docs against the code).
func TestReplayWithLostHookJobsFails(t *testing.T) {
	dir := t.TempDir()
	hook := filepath.Join(dir, "revoke.sh")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\nexit 75\n"), 0o700); err != nil { // EX_TEMPFAIL: retried
		t.Fatal(err)
	}
	cfgPath := writeHooksConfig(t, dir, fmt.Sprintf("  drain_timeout: 500ms\n  command:\n    path: %s\n", hook))
	story, err := os.ReadFile(filepath.Join("..", "..", "testdata", "scenarios", "brute_force_then_success", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, string(story), "replay", "--config", cfgPath, "--enable-hooks", "--progress", "0", "-")
	if code != 1 || !strings.Contains(stderr, "hook and sink jobs were not carried out") {
		t.Errorf("exit %d, want 1 naming the jobs lost: %s", code, stderr)
	}
}
