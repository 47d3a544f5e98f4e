package synth

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/cmd/atogen/label"
	"github.com/atod-project/atod/cmd/atogen/naive"
	"github.com/atod-project/atod/enrich/geotest"
	"github.com/atod-project/atod/ingest"
)

var testStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func generate(t *testing.T, cfg Config) *Tenant {
	t.Helper()
	tn, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

func small(seed uint64) Config {
	return Config{Users: 120, Days: 3, Seed: seed, Start: testStart}
}

func TestSameSeedSameBytes(t *testing.T) {
	cfg := small(42)
	cfg.Disorder = time.Minute
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if err := WriteDir(dir, generate(t, cfg), filepath.Join(dir, "geoip")); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{EventsFile, LabelsFile, ConfigFile} {
		x, _ := os.ReadFile(filepath.Join(a, name))
		y, _ := os.ReadFile(filepath.Join(b, name))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with one seed (%d vs %d bytes)", name, len(x), len(y))
		}
	}
	other := generate(t, small(43))
	var x, y bytes.Buffer
	WriteEvents(&x, generate(t, small(42)).Events, 42, 0)
	WriteEvents(&y, other.Events, 43, 0)
	if bytes.Equal(x.Bytes(), y.Bytes()) {
		t.Error("seeds 42 and 43 gave the same events")
	}
}

// TestEventsAreCanonical parses every line as atod will, and as plain JSON.
func TestEventsAreCanonical(t *testing.T) {
	tn := generate(t, small(1))
	var buf bytes.Buffer
	if err := WriteEvents(&buf, tn.Events, 1, 0); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	var prev time.Time
	sc := bufio.NewScanner(&buf)
	for n := 1; sc.Scan(); n++ {
		if _, err := ingest.ParseCanonical(sc.Bytes()); err != nil {
			t.Fatalf("line %d: %v: %s", n, err, sc.Text())
		}
		var e ingest.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		switch {
		case e.Time.IsZero() || e.User == "" || e.ID == "":
			t.Fatalf("line %d lacks time, user or id: %s", n, sc.Text())
		case e.Type == ingest.TypeLogin && (!e.IP.IsValid() || e.Outcome == ""):
			t.Fatalf("line %d: login without ip or outcome: %s", n, sc.Text())
		case e.Failed() && e.Reason == "":
			t.Fatalf("line %d: failure without reason", n)
		case e.Type == ingest.TypeInboxRule && e.Rule == nil:
			t.Fatalf("line %d: inbox_rule without rule", n)
		case ids[e.ID]:
			t.Fatalf("line %d: duplicate id %s", n, e.ID)
		case e.Time.Before(prev):
			t.Fatalf("line %d: out of order without -disorder", n)
		case e.Time.Before(testStart) || !e.Time.Before(testStart.Add(72*time.Hour)):
			t.Fatalf("line %d: %v outside the tenant's days", n, e.Time)
		}
		ids[e.ID], prev = true, e.Time
	}
}

func TestDisorderIsBounded(t *testing.T) {
	tn := generate(t, small(5))
	var buf bytes.Buffer
	if err := WriteEvents(&buf, tn.Events, 5, time.Minute); err != nil {
		t.Fatal(err)
	}
	var latest time.Time
	displaced := 0
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var e ingest.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if d := latest.Sub(e.Time); d > time.Minute {
			t.Fatalf("event %s arrives %v after a later one", e.ID, d)
		} else if d > 0 {
			displaced++
		}
		if e.Time.After(latest) {
			latest = e.Time
		}
	}
	if displaced == 0 {
		t.Error("-disorder displaced nothing")
	}
}

// TestLabelsMatchEvents checks the answer key against the events: every
// labelled id exists, every compromise has its malicious success, every kind
// of attack and noise is there even in a small tenant.
func TestLabelsMatchEvents(t *testing.T) {
	tn := generate(t, small(7))
	byID := map[string]*ingest.Event{}
	for _, e := range tn.Events {
		byID[e.ID] = e
	}
	kinds := map[string]bool{}
	for _, a := range tn.Labels.Attacks {
		kinds[a.Attack] = true
		if len(a.Events) == 0 || len(a.IPs) == 0 || len(a.Compromised) == 0 {
			t.Errorf("%s (%s): empty events, ips or compromised", a.ID, a.Attack)
		}
		for _, id := range a.Events {
			e := byID[id]
			if e == nil {
				t.Fatalf("%s: event %s does not exist", a.ID, id)
			}
			if e.Time.Before(a.Start) || e.Time.After(a.End) || !slices.Contains(a.IPs, e.IP.String()) {
				t.Errorf("%s: event %s outside the label's span or addresses", a.ID, id)
			}
		}
		for _, c := range a.Compromised {
			if !slices.ContainsFunc(a.Events, func(id string) bool {
				e := byID[id]
				return strings.EqualFold(e.User, c.User) && e.Time.Equal(c.FirstSuccess) &&
					(e.Succeeded() || (e.Type == ingest.TypeMailboxAccess && e.SessionID != ""))
			}) {
				t.Errorf("%s: no malicious success of %s at %v", a.ID, c.User, c.FirstSuccess)
			}
			if !slices.Contains(a.Users, c.User) {
				t.Errorf("%s: compromised %s not among its users", a.ID, c.User)
			}
		}
	}
	for _, k := range label.AttackKinds {
		if !kinds[k] {
			t.Errorf("no %s attack", k)
		}
	}
	for i, k := range label.NoiseKinds {
		if i >= len(tn.Labels.Noise) || tn.Labels.Noise[i].Noise != k || len(tn.Labels.Noise[i].Users) == 0 {
			t.Errorf("noise group %s missing or out of order", k)
		}
	}
}

// TestTripsFlyNoFasterThanPlanes: the trips are benign, so a traveller's
// consecutive residential sign-ins never imply more than 900 km/h.
func TestTripsFlyNoFasterThanPlanes(t *testing.T) {
	tn := generate(t, Config{Users: 400, Days: 7, Seed: 3, Start: testStart})
	loc := naive.NewLocator()
	journeys := 0
	for _, n := range tn.Labels.Noise {
		if n.Noise != label.NoiseTrip {
			continue
		}
		for _, u := range n.Users {
			var prev *naive.Place
			var prevAt time.Time
			for _, e := range tn.Events {
				if !strings.EqualFold(e.User, u) || !e.Succeeded() {
					continue
				}
				p, ok := loc.Locate(e.IP)
				if !ok || geotest.ByName(p.Name).Kind != "residential" {
					continue
				}
				if prev != nil {
					km := naive.GreatCircleKm(prev.Lat, prev.Lon, p.Lat, p.Lon)
					if km > 1000 {
						journeys++
					}
					if h := e.Time.Sub(prevAt).Hours(); km > 0 && km/h > 900 {
						t.Errorf("%s: %s to %s at %.0f km/h", u, prev.Name, p.Name, km/h)
					}
				}
				prev, prevAt = &p, e.Time
			}
		}
	}
	if journeys == 0 {
		t.Error("no traveller signed in far from home")
	}
}

func TestConfigPointsAtTestDatabases(t *testing.T) {
	root := t.TempDir()
	out := filepath.Join(root, "testdata", "demo")
	if err := WriteDir(out, generate(t, small(1)), filepath.Join(root, "testdata", "geoip")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"city: ../geoip/atod-test-City.mmdb", "asn: ../geoip/atod-test-ASN.mmdb",
		"- " + geotest.ByName("frankfurt").Networks[0], "- " + geotest.ByName("us-corporate").Networks[0],
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("config.yaml lacks %q:\n%s", want, b)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, cfg := range []Config{
		{Users: 5, Days: 1, Start: testStart},
		{Users: 100, Days: 0, Start: testStart},
		{Users: 100, Days: 1},
		{Users: 100, Days: 1, Start: testStart, Disorder: -time.Second},
	} {
		if _, err := Generate(cfg); err == nil {
			t.Errorf("Generate(%+v) accepted a bad config", cfg)
		}
	}
}
