package storetest

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap"
	"gopkg.in/yaml.v3"

	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
)

// DemoEvents returns the demo tenant (testdata/demo/events.jsonl), parsed
// and enriched with the GeoIP test databases and trusted networks of its
// config.yaml, as atod replay would see it.
func DemoEvents(tb testing.TB) []enrich.Event {
	tb.Helper()
	root, err := repoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	dir := filepath.Join(root, "testdata", "demo")
	enr, err := enrich.New(demoEnrichConfig(tb, filepath.Join(dir, "config.yaml")), zap.NewNop())
	if err != nil {
		tb.Fatal(err)
	}
	defer enr.Close()
	raw, err := os.ReadFile(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	var events []enrich.Event
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		e, err := ingest.ParseCanonical(sc.Bytes())
		if err != nil {
			tb.Fatalf("events.jsonl:%d: %v", n, err)
		}
		events = append(events, enr.Enrich(e))
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return events
}

// demoEnrichConfig reads the enrich part of the demo's config, with paths
// relative to the file as cmd/atod takes them.
func demoEnrichConfig(tb testing.TB, path string) enrich.Config {
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var c struct {
		GeoIP struct {
			City        string `yaml:"city"`
			ASN         string `yaml:"asn"`
			AnonymousIP string `yaml:"anonymous_ip"`
		} `yaml:"geoip"`
		TrustedNetworks []string `yaml:"trusted_networks"`
	}
	if err := yaml.Unmarshal(raw, &c); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(filepath.Dir(path), p)
	}
	return enrich.Config{City: abs(c.GeoIP.City), ASN: abs(c.GeoIP.ASN), AnonymousIP: abs(c.GeoIP.AnonymousIP),
		TrustedNetworks: c.TrustedNetworks}
}

// repoRoot finds the module root from the test's working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
