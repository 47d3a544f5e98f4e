package main

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadConfig: any config file gives a config or an error, never a panic.
func FuzzLoadConfig(f *testing.F) {
	for _, seed := range []string{
		"geoip:\n  city: a.mmdb\ntrusted_networks: [10.0.0.0/8]\n",
		"detector:\n  lateness: 30s\n  policy:\n    never_revoke: [a@b]\n",
		"detector: {impossible_travel: {max_speed_kmh: -1}}",
		"kafka: {brokers: [x:1], start: latest}\nredis: {addrs: [a:1, b:2]}",
		"[1, 2", "detector:\n  lateness: 1y\n", "\xff\xfe",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := loadConfig(path)
		if err == nil {
			_ = cfg.Detector.Validate()
		}
	})
}
