package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var scenarioCfg = filepath.Join("..", "..", "testdata", "scenarios", "config.yaml")

// --out and --dlq naming one file spelled two ways are refused, even
// before the file exists: the dead letters would overwrite the alerts.
func TestOutAndDLQOneFileSpelledTwoWays(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(in, []byte(twoSignIns+"not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "x.jsonl")
	dlq := dir + "/./x.jsonl"
	code, _, stderr := runCLI(t, "", "replay", "--config", scenarioCfg, "--log-level", "error", "--out", out, "--dlq", dlq, in)
	if code != 2 || !strings.Contains(stderr, "one file") {
		b, _ := os.ReadFile(out)
		t.Errorf("exit %d, stderr %q; want exit 2 refusing --out and --dlq naming one file. The file now holds %q", code, stderr, b)
	}
}

// An interrupted replay does not exit 0: a script would take the partial
// output for the whole replay.
func TestInterruptedReplayExitsNonZero(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() {
		// Some input, then the pipe stays open: the replay is not done.
		pw.Write([]byte(twoSignIns))
	}()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(300 * time.Millisecond); cancel() }()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"replay", "--config", scenarioCfg, "-"}, pr, &out, &errb)
	if !strings.Contains(errb.String(), "interrupted") {
		t.Fatalf("the run was not interrupted: %s", errb.String())
	}
	if code == 0 {
		t.Errorf("an interrupted replay exits 0, as if it had read all its input; stderr:\n%s", errb.String())
	}
}

// Several inputs are merged by event time: rotated logs given newest first,
// as a shell glob lists them, give the alerts of the same events in one
// file. Here the compromise_after_attack of brute_force_then_success needs
// the failures of the older file before the success of the newer.
func TestSeveralFilesMergedByTime(t *testing.T) {
	dir := t.TempDir()
	all, err := os.ReadFile(filepath.Join("..", "..", "testdata", "scenarios", "brute_force_then_success", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	tail := `{"time":"2026-03-02T12:00:00Z","user":"bob@example.org","ip":"84.128.0.11","outcome":"success","id":"t1"}
{"time":"2026-03-02T12:01:00Z","user":"bob@example.org","ip":"84.128.0.11","outcome":"success","id":"t2"}
`
	all = append(all, tail...)
	// The older part (up to the last failure) was rotated to .1; the newer
	// part (the success and what follows) is the current file.
	lines := strings.SplitAfter(string(all), "\n")
	cut := 0
	for i, l := range lines {
		if strings.Contains(l, `"outcome":"failure"`) {
			cut = i + 1
		}
	}
	older, newer := strings.Join(lines[:cut], ""), strings.Join(lines[cut:], "")
	current, rotated, whole := filepath.Join(dir, "signins.jsonl"), filepath.Join(dir, "signins.jsonl.1"), filepath.Join(dir, "whole.jsonl")
	for p, d := range map[string]string{current: newer, rotated: older, whole: string(all)} {
		if err := os.WriteFile(p, []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, want, _ := runCLI(t, "", "replay", "--config", scenarioCfg, "--log-level", "error", whole)
	if !strings.Contains(want, "compromise_after_attack") {
		t.Fatalf("the scenario gives no compromise_after_attack: %s", want)
	}
	// What `atod replay signins.jsonl*` runs.
	code, got, stderr := runCLI(t, "", "replay", "--config", scenarioCfg, "--log-level", "warn", current, rotated)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got != want {
		t.Errorf("the same events in two files give other alerts than in one file.\ntwo files:\n%s(stderr: %s)\none file:\n%s", got, stderr, want)
	}
}

// Without --dlq, dead letters go to the log as warnings; with --log-level
// error their count must still show.
func TestDeadLettersCountedAtLogLevelError(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	os.WriteFile(in, []byte(twoSignIns+"not json\n"), 0o644)
	code, _, stderr := runCLI(t, "", "replay", "--config", scenarioCfg, "--log-level", "error", in)
	if code == 0 && !strings.Contains(stderr, "not json") && !strings.Contains(stderr, "dead") {
		t.Errorf("exit 0 and stderr %q: line 3 of the input was dropped without a trace", stderr)
	}
}

// A --dlq that cannot be opened leaves an earlier --out as it was, and the
// error names the flag.
func TestFailedDLQOpenKeepsOut(t *testing.T) {
	dir, in, out := earlierReplay(t)
	code, _, stderr := runCLI(t, "", "replay", "--config", scenarioCfg, "--log-level", "error",
		"--out", out, "--dlq", filepath.Join(dir, "no-such-dir", "dead.jsonl"), in)
	if code == 0 {
		t.Fatalf("exit 0: %s", stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != earlierAlerts {
		t.Errorf("a replay that failed to start (%s) emptied --out: it holds %q", strings.TrimSpace(stderr), b)
	}
	if !strings.Contains(stderr, "--dlq") {
		t.Errorf("the error does not name --dlq: %s", stderr)
	}
}

// A replay that fails to start after its outputs were opened (here
// --enable-hooks without hooks) leaves an earlier --out as it was.
func TestFailedStartKeepsOut(t *testing.T) {
	_, in, out := earlierReplay(t)
	code, _, stderr := runCLI(t, "", "replay", "--config", scenarioCfg, "--log-level", "error",
		"--enable-hooks", "--out", out, in)
	if code == 0 {
		t.Fatalf("exit 0: %s", stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != earlierAlerts {
		t.Errorf("a replay that failed to start (exit %d: %s) emptied --out: it holds %q", code, strings.TrimSpace(stderr), b)
	}
}

// A --dlq that cannot be opened leaves no new, empty --out behind, which
// would look like a replay that found nothing.
func TestFailedDLQOpenCreatesNoOut(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	os.WriteFile(in, []byte(twoSignIns), 0o644)
	out := filepath.Join(dir, "alerts.jsonl")
	code, _, stderr := runCLI(t, "", "replay", "--config", scenarioCfg, "--log-level", "error",
		"--out", out, "--dlq", filepath.Join(dir, "no-such-dir", "dead.jsonl"), in)
	if code == 0 {
		t.Fatalf("exit 0: %s", stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a replay that failed to start (%s) created --out %s", strings.TrimSpace(stderr), out)
	}
}

// --out /dev/null works: only regular files are emptied.
func TestOutDevNull(t *testing.T) {
	if _, err := os.Stat(os.DevNull); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	os.WriteFile(in, []byte(twoSignIns), 0o644)
	code, _, stderr := runCLI(t, "", "replay", "--config", scenarioCfg, "--log-level", "error", "--out", os.DevNull, in)
	if code != 0 {
		t.Errorf("replay --out %s: exit %d: %s", os.DevNull, code, strings.TrimSpace(stderr))
	}
}

// A missing input stops the replay before any output is touched.
func TestMissingInputKeepsOut(t *testing.T) {
	dir, in, out := earlierReplay(t)
	code, _, stderr := runCLI(t, "", "replay", "--config", scenarioCfg, "--log-level", "error",
		"--out", out, in, filepath.Join(dir, "no-such-file.jsonl"))
	if code == 0 {
		t.Fatalf("exit 0: %s", stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != earlierAlerts {
		t.Errorf("a replay that failed before reading any record (exit %d: %s) emptied --out: it holds %q", code, strings.TrimSpace(stderr), b)
	}
}

// earlierAlerts is what --out holds from an earlier replay.
const earlierAlerts = "alerts of an earlier replay\n"

// earlierReplay makes a directory with an input of two sign-ins and an
// --out file holding an earlier replay's alerts, which a replay that
// cannot start must leave as they are.
func earlierReplay(t *testing.T) (dir, in, out string) {
	t.Helper()
	dir = t.TempDir()
	in, out = filepath.Join(dir, "in.jsonl"), filepath.Join(dir, "alerts.jsonl")
	if err := os.WriteFile(in, []byte(twoSignIns), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, []byte(earlierAlerts), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, in, out
}
