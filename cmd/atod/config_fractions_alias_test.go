package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fractionsInWholeNumbers walks the YAML tree beside the config's Go
// types, but follows neither aliases nor merge keys ("<<"), both of which
// yaml.v3 resolves when it decodes: the fraction is then still cut to a
// whole number without a word, which is what the check was added to stop.
func TestFractionThroughAliasOrMergeRefused(t *testing.T) {
	for name, y := range map[string]string{
		"alias": "detector:\n  distributed_spray:\n    max_attempts_per_account: &n 12.5\n    min_accounts: *n\n",
		"merge": "hooks:\n  <<: {workers: 2.5}\n",
	} {
		p := filepath.Join(t.TempDir(), "atod.yaml")
		if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := loadConfig(p)
		if err == nil || !strings.Contains(err.Error(), "want a whole number") {
			t.Errorf("%s: loadConfig(%q) = min_accounts %d, workers %d, err %v; want the fraction refused",
				name, y, c.Detector.Spray.MinAccounts, c.Hooks.Workers, err)
		}
	}
}
