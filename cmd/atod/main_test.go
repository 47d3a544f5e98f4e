package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	badCfg := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badCfg, []byte("trusted_networks: [10.0.0.0/33]\ndetector:\n  lateness: -1s\n"), 0o644)
	unknownKey := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(unknownKey, []byte("geoip:\n  citty: x.mmdb\n"), 0o644)
	evidence := filepath.Join(dir, "evidence.jsonl")
	os.WriteFile(evidence, []byte("{}\n"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "Usage:"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"no files", []string{"replay"}, 2, "no input files"},
		{"bad flag", []string{"replay", "--nope", "x"}, 2, "flag provided but not defined"},
		{"missing config", []string{"replay", "--config", filepath.Join(dir, "none.yaml"), "x"}, 2, "reading config"},
		{"bad values name their keys", []string{"replay", "--config", badCfg, "x"}, 2, "trusted_networks[0]"},
		{"bad lateness", []string{"replay", "--config", badCfg, "x"}, 2, "detector.lateness"},
		{"unknown key", []string{"replay", "--config", unknownKey, "x"}, 2, "citty"},
		{"missing database", []string{"replay", "--geoip-city", filepath.Join(dir, "no.mmdb"), "x"}, 2, "geoip.city"},
		{"missing input", []string{"replay", "--log-level", "error", filepath.Join(dir, "absent.jsonl")}, 1, "absent.jsonl"},
		{"bad log level", []string{"replay", "--log-level", "loud", "x"}, 2, "--log-level"},
		{"log level beyond error", []string{"replay", "--log-level", "fatal", "x"}, 2, "--log-level"},
		{"out is an input", []string{"replay", "--out", evidence, evidence}, 2, "also an input file"},
		{"dlq is an input", []string{"replay", "--out", filepath.Join(dir, "a.jsonl"), "--dlq", evidence, "x", evidence}, 2, "also an input file"},
		{"out and dlq one file", []string{"replay", "--out", filepath.Join(dir, "b.jsonl"), "--dlq", filepath.Join(dir, "b.jsonl"), "x"}, 2, "one file"},
		{"dlq on stdout beside alerts", []string{"replay", "--dlq", "-", "x"}, 2, "--dlq -"},
		{"run: bad values name their keys", []string{"run", "--config", badCfg}, 2, "detector.lateness"},
		{"run: config required", []string{"run"}, 2, "--config is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, "", tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.want)
			}
			if b, err := os.ReadFile(evidence); err != nil || string(b) != "{}\n" {
				t.Errorf("the input file was changed: %q %v", b, err)
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	if code, out, _ := runCLI(t, "", "version"); code != 0 || !strings.HasPrefix(out, "atod ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
	if code, out, _ := runCLI(t, "", "--help"); code != 0 || !strings.Contains(out, "atod replay") {
		t.Errorf("--help: exit %d, %q", code, out)
	}
	if code, _, errOut := runCLI(t, "", "replay", "--help"); code != 0 || !strings.Contains(errOut, "-dlq file") {
		t.Errorf("replay --help: exit %d, %q", code, errOut)
	}
}

const twoSignIns = `{"time":"2026-03-02T08:00:00Z","user":"Anna@Example.org","ip":"::ffff:84.128.0.10","outcome":"success","id":"e1"}
{"time":"2026-03-02T08:30:00Z","user":"anna@example.org","ip":"105.112.0.5","outcome":"success","id":"e2"}
`

// The same input from stdin, a plain file and a gzip file gives the same
// alerts, and flags may follow the file names.
func TestReplayInputs(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "in.jsonl")
	os.WriteFile(plain, []byte(twoSignIns), 0o644)
	gz := filepath.Join(dir, "in.jsonl.gz")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(twoSignIns))
	zw.Close()
	os.WriteFile(gz, buf.Bytes(), 0o644)
	cfg := filepath.Join("..", "..", "testdata", "scenarios", "config.yaml")

	var outputs []string
	for _, args := range [][]string{
		{"replay", "--config", cfg, "--log-level", "warn", "-"},
		{"replay", plain, "--config", cfg, "--log-level", "warn"},
		{"replay", "--config", cfg, "--log-level", "warn", gz},
	} {
		code, out, errOut := runCLI(t, twoSignIns, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		outputs = append(outputs, out)
	}
	if !strings.Contains(outputs[0], `"rule":"impossible_travel"`) {
		t.Fatalf("no impossible travel alert in %q", outputs[0])
	}
	if outputs[0] != outputs[1] || outputs[1] != outputs[2] {
		t.Errorf("stdin, file and gzip gave different alerts:\n%s\n%s\n%s", outputs[0], outputs[1], outputs[2])
	}
}

// atod events prints what atod sees: normalised and enriched.
func TestEventsCommand(t *testing.T) {
	cfg := filepath.Join("..", "..", "testdata", "scenarios", "config.yaml")
	code, out, errOut := runCLI(t, twoSignIns+"not json\n", "events", "--config", cfg, "--log-level", "error", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d event lines, want 2 (the bad line is dead-lettered): %q", len(lines), out)
	}
	var e struct {
		User string `json:"user"`
		IP   string `json:"ip"`
		Geo  struct {
			Country string `json:"country"`
			City    string `json:"city"`
			Radius  int    `json:"radius_km"`
		} `json:"geo"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil {
		t.Fatal(err)
	}
	if e.User != "anna@example.org" || e.IP != "84.128.0.10" || e.Geo.Country != "DE" || e.Geo.City != "Berlin" || e.Geo.Radius == 0 {
		t.Errorf("event = %+v", e)
	}
}

// --lateness 0 overrides a configured lateness: the event a minute out of
// order is then late, and the summary says so.
func TestLatenessFlagZeroOverridesConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "atod.yaml")
	os.WriteFile(cfg, []byte("detector:\n  lateness: 10m\n"), 0o644)
	in := `{"time":"2026-03-02T08:01:00Z","user":"anna@example.org","ip":"84.128.0.10","outcome":"success","id":"e1"}
{"time":"2026-03-02T08:00:00Z","user":"anna@example.org","ip":"84.128.0.10","outcome":"success","id":"e2"}
`
	for _, tc := range []struct {
		args []string
		late bool
	}{
		{[]string{"replay", "--config", cfg, "-"}, false},
		{[]string{"replay", "--config", cfg, "--lateness", "0", "-"}, true},
	} {
		code, _, stderr := runCLI(t, in, tc.args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr)
		}
		if got := strings.Contains(stderr, "later than the allowed lateness"); got != tc.late {
			t.Errorf("%v: late events reported %v, want %v: %s", tc.args, got, tc.late, stderr)
		}
	}
}

// --dlq - with the alerts in a file: the dead letters are the command's
// stdout, whole lines.
func TestReplayDeadLettersOnStdout(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	os.WriteFile(in, []byte("not json\n{\"time\":\"2026-03-02T08:00:00Z\"}\n"), 0o644)
	code, stdout, stderr := runCLI(t, "", "replay", "--log-level", "error", "--out", filepath.Join(dir, "alerts.jsonl"), "--dlq", "-", in)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "not json") {
		t.Errorf("stdout %q: want the two dead letters, one a line", stdout)
	}
}
