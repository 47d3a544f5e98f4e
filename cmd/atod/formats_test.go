package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/atod-project/atod/ingest/formattest"
	"github.com/atod-project/atod/ingest/syslog"
)

var formatsRoot = filepath.Join("..", "..", "testdata", "formats")

// replayAlerts runs atod replay over path and returns the alert lines.
func replayAlerts(t *testing.T, format, path string) []byte {
	t.Helper()
	cfg := filepath.Join("..", "..", "testdata", "scenarios", "config.yaml")
	var stdout, stderr bytes.Buffer
	args := []string{"replay", "--config", cfg, "--log-level", "warn", "--format", format, path}
	if code := run(context.Background(), args, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("replay %s: exit %d: %s", path, code, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("replay %s: %s", path, stderr.String())
	}
	return stdout.Bytes()
}

// TestFormatTakeovers replays each provider's scripted takeover
// (testdata/formats/PROVIDER/takeover) in the provider's own format, detected
// and forced, and in canonical JSON: the alerts must be the same, and the
// story's rules must fire.
func TestFormatTakeovers(t *testing.T) {
	for _, tc := range []struct {
		provider, file string
		rules          []string
	}{
		{"entra", "eventhubs.jsonl", []string{"impossible_travel", "mfa_fatigue"}},
		{"m365", "management-api-content.json", []string{"impossible_travel", "mass_mailbox_access", "forwarding_rule"}},
		{"google", "reports-page.json", []string{"impossible_travel", "mfa_fatigue", "forwarding_rule"}},
		{"okta", "systemlog-page.json", []string{"impossible_travel", "mfa_fatigue", "session_hijack"}},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			dir := filepath.Join(formatsRoot, tc.provider, "takeover")
			want := replayAlerts(t, "canonical", filepath.Join(dir, "canonical.jsonl"))
			for _, format := range []string{autoFormat, tc.provider} {
				if got := replayAlerts(t, format, filepath.Join(dir, tc.file)); !bytes.Equal(got, want) {
					t.Errorf("--format %s: alerts differ from the canonical story's:\ngot:\n%s\nwant:\n%s", format, got, want)
				}
			}
			for _, rule := range tc.rules {
				if !bytes.Contains(want, []byte(`"rule":"`+rule+`"`)) {
					t.Errorf("no %s alert:\n%s", rule, want)
				}
			}
		})
	}
}

// TestAutoDetection reads every fixture of testdata/formats/FORMAT with
// auto-detection: the events must be those of the fixture's golden file,
// which its own format gave when forced, so no format claims another's
// records.
func TestAutoDetection(t *testing.T) {
	all, err := inputFormats(autoFormat, syslog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := os.ReadDir(formatsRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() || !slices.Contains(formatNames(), d.Name()) {
			continue
		}
		for _, path := range formattest.Fixtures(t, filepath.Join(formatsRoot, d.Name())) {
			t.Run(d.Name()+"/"+filepath.Base(path), func(t *testing.T) {
				got, _, _ := formattest.Read(t, all, path)
				want, err := os.ReadFile(strings.TrimSuffix(path, filepath.Ext(path)) + ".events.jsonl")
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("auto-detected events differ:\ngot:\n%s\nwant:\n%s", got, want)
				}
			})
		}
	}
}

func TestFormatFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"events", "--format", "syslog-ng", "x.jsonl"}, nil, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), `unknown format "syslog-ng"`) {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	names := formatNames()
	if names[0] != autoFormat || names[len(names)-1] != "canonical" || !slices.Contains(names, "m365") {
		t.Errorf("format names %v", names)
	}
}
