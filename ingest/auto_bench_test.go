package ingest_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/entra"
	"github.com/atod-project/atod/ingest/google"
	"github.com/atod-project/atod/ingest/m365"
	"github.com/atod-project/atod/ingest/okta"
)

// BenchmarkFilesRunAuto is BenchmarkFilesRun/plain with every format's
// Sniff asked first, as atod replay's default --format auto does: the cost
// of auto-detection on canonical input.
func BenchmarkFilesRunAuto(b *testing.B) {
	data := ingest.JoinLines(ingest.GenLines(ingest.BenchLines, 2))
	formats := []ingest.Format{entra.Format(), m365.Format(), google.Format(), okta.Format(), ingest.Canonical}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	events := int64(0)
	h := ingest.HandlerFunc(func(context.Context, ingest.Event) error { events++; return nil })
	for b.Loop() {
		f := &ingest.Files{Paths: []string{"-"}, Stdin: bytes.NewReader(data), Formats: formats}
		st, err := f.Run(context.Background(), h, nil)
		if err != nil || st.Events != ingest.BenchLines {
			b.Fatalf("%+v %v", st, err)
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkSniffs(b *testing.B) {
	lines := ingest.GenLines(1000, 3)
	for _, f := range []ingest.Format{entra.Format(), m365.Format(), google.Format(), okta.Format()} {
		b.Run(f.Name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if f.Sniff(lines[i%len(lines)]) {
					b.Fatal("claimed a canonical line")
				}
			}
		})
	}
}

// BenchmarkDecodeCanonical compares one goroutine decoding canonical lines
// with the canonical decoder and with auto-detection over every format.
func BenchmarkDecodeCanonical(b *testing.B) {
	lines := ingest.GenLines(10000, 4)
	auto, err := ingest.NewAutoDecoder([]ingest.Format{entra.Format(), m365.Format(), google.Format(), okta.Format(), ingest.Canonical})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		dec  ingest.Decoder
	}{{"canonical", ingest.Canonical.New()}, {"auto", auto}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := bc.dec.Decode(lines[i%len(lines)], func(ingest.Event) {}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
