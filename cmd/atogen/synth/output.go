package synth

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/atod-project/atod/cmd/atogen/label"
	"github.com/atod-project/atod/enrich/geotest"
	"github.com/atod-project/atod/ingest"
)

// Names of the files a tenant directory holds, and of the GeoIP test
// databases its config points at.
const (
	EventsFile = "events.jsonl"
	LabelsFile = "labels.jsonl"
	ConfigFile = "config.yaml"
	CityDB     = "atod-test-City.mmdb"
	ASNDB      = "atod-test-ASN.mmdb"
	AnonDB     = "atod-test-Anonymous-IP.mmdb"
)

// WriteDir writes the tenant's events, labels and config into dir. geoipDir
// is where the test databases are; the config refers to it by a path
// relative to itself, so the directory can be replayed from anywhere.
func WriteDir(dir string, t *Tenant, geoipDir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, EventsFile), func(w io.Writer) error {
		return WriteEvents(w, t.Events, t.Config.Seed, t.Config.Disorder)
	}); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, LabelsFile), func(w io.Writer) error {
		return label.Write(w, t.Labels)
	}); err != nil {
		return err
	}
	rel, err := relativeTo(dir, geoipDir)
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, ConfigFile), func(w io.Writer) error {
		return WriteConfig(w, rel, t.Config.Seed, t.Config.Disorder)
	})
}

// WriteEvents writes events as JSON lines in arrival order: event time plus
// a random delay of up to disorder, as a collector that batches would
// deliver them. The delay draws from its own stream, so the events stay the
// same whatever the disorder.
func WriteEvents(w io.Writer, events []*ingest.Event, seed uint64, disorder time.Duration) error {
	order := slices.Clone(events)
	if disorder > 0 {
		rng := rand.New(rand.NewPCG(seed, 0x6c617465)) // "late"
		arrival := make(map[*ingest.Event]time.Time, len(events))
		for _, e := range events {
			arrival[e] = e.Time.Add(time.Duration(rng.Int64N(int64(disorder) + 1)))
		}
		slices.SortStableFunc(order, func(a, b *ingest.Event) int { return arrival[a].Compare(arrival[b]) })
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	for _, e := range order {
		if err := enc.Encode(e); err != nil {
			return fmt.Errorf("event %s: %w", e.ID, err)
		}
	}
	return bw.Flush()
}

// WriteConfig writes the atod config of the tenant: the test GeoIP
// databases, the corporate networks as trusted, and, when the events
// arrive later than atod's default lateness allows (disorder above a
// minute), a lateness that covers them.
func WriteConfig(w io.Writer, geoipDir string, seed uint64, disorder time.Duration) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# atod config for a synthetic tenant (atogen tenant, seed %d).\n", seed)
	if disorder > time.Minute {
		fmt.Fprintf(bw, "detector:\n  lateness: %s   # atogen -disorder\n", disorder)
	}
	fmt.Fprintf(bw, "geoip:\n  city: %s\n  asn: %s\n  anonymous_ip: %s\n",
		filepath.ToSlash(filepath.Join(geoipDir, CityDB)), filepath.ToSlash(filepath.Join(geoipDir, ASNDB)),
		filepath.ToSlash(filepath.Join(geoipDir, AnonDB)))
	fmt.Fprintf(bw, "trusted_networks:   # corporate egress of the hospital group\n")
	for _, p := range geotest.World {
		if p.Kind != "corporate" {
			continue
		}
		for _, n := range p.Networks {
			fmt.Fprintf(bw, "  - %s   # %s, %s\n", n, p.Name, p.Org)
		}
	}
	return bw.Flush()
}

// relativeTo expresses target relative to dir, falling back to the absolute
// path when there is no relative one (another volume).
func relativeTo(dir, target string) (string, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	absTarget, err := filepath.Abs(target)
	if err != nil {
		return "", err
	}
	if rel, err := filepath.Rel(absDir, absTarget); err == nil {
		return rel, nil
	}
	return absTarget, nil
}

func writeFile(path string, write func(io.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
