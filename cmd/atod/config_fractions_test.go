package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// README, "Configuration": "Unknown keys and values of the wrong type
// anywhere in the file ... stop the program with a message naming the
// key"; docs/detection.md: scores, counts and weights are whole numbers
// (0–100 for scores). The loader already says "want a whole number (int)"
// for a number too large for an int. A fraction written for a whole-number
// key, however, was silently truncated by yaml.v3 (50.5 became 50, 0.9
// became 0 and was then refused as "must be at least 1, got 0", a value
// the file never held). Found by a review of the docs against the code.
func TestFractionForWholeNumberKeyIsRefused(t *testing.T) {
	for _, tc := range []struct {
		key, yaml string
	}{
		{"detector.policy.alert_score", "detector:\n  policy:\n    alert_score: 50.5\n"},
		{"detector.brute_force.min_failures", "detector:\n  brute_force:\n    min_failures: 2.5\n"},
		{"hooks.limits.max_revocations", "hooks:\n  limits:\n    max_revocations: 10.7\n"},
		{"kafka.batch_events", "kafka:\n  batch_events: 512.5\n"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "atod.yaml")
			if err := os.WriteFile(p, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := loadConfig(p)
			if err == nil {
				err = c.validate()
			}
			if err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Errorf("config %q: loadConfig+validate = %v; want an error naming %s (a fraction is not a whole number); got alert_score=%d min_failures=%d max_revocations=%d batch_events=%d",
					strings.TrimSpace(tc.yaml), err, tc.key, c.Detector.Policy.AlertScore, c.Detector.BruteForce.MinFailures,
					c.Hooks.Limits.MaxRevocations, c.Kafka.BatchEvents)
			}
		})
	}
}

// Whole numbers written as floats are still taken, and a fraction in a
// map or list of whole numbers is named by its path.
func TestWholeFloatsTaken(t *testing.T) {
	p := filepath.Join(t.TempDir(), "atod.yaml")
	if err := os.WriteFile(p, []byte("detector:\n  policy:\n    alert_score: 5e1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(p)
	if err != nil || c.Detector.Policy.AlertScore != 50 {
		t.Fatalf("alert_score 5e1: %v, %d", err, c.Detector.Policy.AlertScore)
	}
}
