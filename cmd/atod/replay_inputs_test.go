package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A missing input stops the replay before any output is touched.
func TestMissingInputKeepsOut(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	os.WriteFile(in, []byte(twoSignIns), 0o644)
	out := filepath.Join(dir, "alerts.jsonl")
	os.WriteFile(out, []byte("alerts of an earlier replay\n"), 0o644)
	code, _, stderr := runCLI(t, "", "replay", "--config", scenarioCfg, "--log-level", "error",
		"--out", out, in, filepath.Join(dir, "no-such-file.jsonl"))
	if code == 0 {
		t.Fatalf("exit 0: %s", stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != "alerts of an earlier replay\n" {
		t.Errorf("a replay that failed before reading any record (exit %d: %s) emptied --out: it holds %q", code, strings.TrimSpace(stderr), b)
	}
}
