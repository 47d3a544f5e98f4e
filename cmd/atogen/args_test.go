package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// captureStdout runs fn with os.Stdout sent to a temporary file and returns
// what fn wrote there.
func captureStdout(t *testing.T, fn func() error) ([]byte, error) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = f
	runErr := fn()
	os.Stdout = old
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return out, runErr
}

// A tenant written with -disorder above atod's default lateness gets a
// config.yaml whose lateness covers it: the directory replays as is, with
// no event evaluated out of order.
func TestTenantConfigCoversDisorder(t *testing.T) {
	const disorder = 10 * time.Minute
	out := t.TempDir()
	if err := runTenant([]string{"-users", "100", "-days", "2", "-seed", "1",
		"-disorder", disorder.String(), "-out", out}); err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(filepath.Join(out, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Detector struct {
			Lateness string `yaml:"lateness"`
		} `yaml:"detector"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	lateness := time.Minute // atod's default (detector/config.go)
	if cfg.Detector.Lateness != "" {
		if lateness, err = time.ParseDuration(cfg.Detector.Lateness); err != nil {
			t.Fatal(err)
		}
	}

	f, err := os.Open(filepath.Join(out, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var newest time.Time
	late, total := 0, 0
	var worst time.Duration
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e struct {
			Time time.Time `json:"time"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		total++
		if e.Time.After(newest) {
			newest = e.Time
		}
		if d := newest.Sub(e.Time); d > lateness {
			late++
			worst = max(worst, d)
		}
	}
	if late > 0 {
		t.Errorf("tenant written with -disorder %v: %d of %d events arrive later than the lateness its own config.yaml gives atod (%v; up to %v late); config.yaml:\n%s",
			disorder, late, total, lateness, worst, raw)
	}
}

// A stray argument is refused: Go's flag package would stop at it and
// ignore every flag after it.
func TestStreamRejectsStrayArguments(t *testing.T) {
	stray, err := captureStdout(t, func() error {
		return runStream([]string{"-events", "3", "-users", "5", "stray", "-seed", "9"})
	})
	if err != nil {
		if !strings.Contains(err.Error(), "stray") {
			t.Errorf("error %v does not name the argument", err)
		}
		return
	}
	seed1, err := captureStdout(t, func() error {
		return runStream([]string{"-events", "3", "-users", "5", "-seed", "1"})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Errorf("atogen stream accepted a stray argument and ignored the flags after it (-seed 9 gave the output of seed 1: %v)",
		bytes.Equal(stray, seed1))
}
