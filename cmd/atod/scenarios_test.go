package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected files of testdata/scenarios from the current output")

// TestScenarios replays every folder of testdata/scenarios and compares the
// alert lines with expected.jsonl and, where the folder has one, the
// dead-letter lines with expected-dlq.jsonl. A folder may carry its own
// config.yaml; otherwise the shared one is used.
func TestScenarios(t *testing.T) {
	root := filepath.Join("..", "..", "testdata", "scenarios")
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		ran++
		dir := filepath.Join(root, d.Name())
		t.Run(d.Name(), func(t *testing.T) {
			cfg := filepath.Join(dir, "config.yaml")
			if _, err := os.Stat(cfg); err != nil {
				cfg = filepath.Join(root, "config.yaml")
			}
			dlq := filepath.Join(t.TempDir(), "dlq.jsonl")
			var stdout, stderr bytes.Buffer
			args := []string{"replay", "--config", cfg, "--dlq", dlq, "--log-level", "warn", filepath.Join(dir, "events.jsonl")}
			if code := run(context.Background(), args, nil, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			compareGolden(t, filepath.Join(dir, "expected.jsonl"), stdout.Bytes())
			gotDLQ, err := os.ReadFile(dlq)
			if err != nil {
				t.Fatal(err)
			}
			wantDLQ := filepath.Join(dir, "expected-dlq.jsonl")
			if _, err := os.Stat(wantDLQ); err == nil || len(gotDLQ) > 0 {
				compareGolden(t, wantDLQ, gotDLQ)
			}
		})
	}
	if ran == 0 {
		t.Fatal("no scenarios found")
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/atod -run TestScenarios -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// The out-of-order scenario must give exactly the alerts of the sorted one.
func TestOutOfOrderScenarioMatchesSorted(t *testing.T) {
	root := filepath.Join("..", "..", "testdata", "scenarios")
	sorted, err1 := os.ReadFile(filepath.Join(root, "stuffing_with_hit", "expected.jsonl"))
	shuffled, err2 := os.ReadFile(filepath.Join(root, "out_of_order", "expected.jsonl"))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if len(sorted) == 0 || !bytes.Equal(sorted, shuffled) {
		t.Errorf("out_of_order alerts differ from stuffing_with_hit's")
	}
	if !strings.Contains(string(sorted), `"action":"revoke_sessions"`) {
		t.Errorf("stuffing_with_hit should revoke the account that was hit")
	}
}
