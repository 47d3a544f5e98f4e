package formattest

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/atod-project/atod/ingest"
)

// Bench measures format's record decoder on the records of the JSON
// fixtures in dir that decode into events without error, and reports
// events/s beside the bytes/s of the records.
func Bench(b *testing.B, format ingest.Format, dir string) {
	var recs [][]byte
	size := 0
	for _, path := range Fixtures(b, dir) {
		if strings.HasSuffix(path, ".csv") {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range bytes.Split(data, []byte("\n")) {
			n := 0
			if format.New().Decode(l, func(ingest.Event) { n++ }) == nil && n > 0 {
				recs = append(recs, l)
				size += len(l)
			}
		}
	}
	if len(recs) == 0 {
		b.Fatal("no records that decode")
	}
	dec := format.New()
	events := 0
	emit := func(ingest.Event) { events++ }
	b.SetBytes(int64(size / len(recs)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := dec.Decode(recs[i%len(recs)], emit); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
