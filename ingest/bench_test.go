package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

const benchLines = 200_000

func benchmarkParse(b *testing.B, parse func([]byte) (Event, error)) {
	lines := genLines(benchLines, 1)
	size := 0
	for _, l := range lines {
		size += len(l)
	}
	b.SetBytes(int64(size / len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := parse(lines[i%len(lines)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkParseCanonical(b *testing.B) { benchmarkParse(b, ParseCanonical) }

// BenchmarkParseReference measures the encoding/json-based reference, to
// show what the hand-written decoder buys.
func BenchmarkParseReference(b *testing.B) { benchmarkParse(b, parseReference) }

// BenchmarkFilesRun measures the whole file side: line cutting, parallel
// parsing and in-order delivery to a handler that does nothing.
func BenchmarkFilesRun(b *testing.B) {
	data := joinLines(genLines(benchLines, 2))
	for _, bc := range []struct {
		name string
		in   []byte
	}{{"plain", data}, {"gzip", gzipped(b, data)}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			events := int64(0)
			h := HandlerFunc(func(context.Context, Event) error { events++; return nil })
			for b.Loop() {
				f := &Files{Paths: []string{"-"}, Stdin: bytes.NewReader(bc.in)}
				st, err := f.Run(context.Background(), h, nil)
				if err != nil || st.Events != benchLines {
					b.Fatalf("%+v %v", st, err)
				}
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkDecodeStdlib is the floor for an encoding/json-based parser:
// json.Unmarshal into a flat struct, without any of the field rules.
func BenchmarkDecodeStdlib(b *testing.B) {
	type flat struct {
		Time, User, IP, Type, Outcome, Reason, SessionID, Protocol, UserAgent, DeviceID, ID, Tenant string
		Items                                                                                       int
		Rule                                                                                        *InboxRule
	}
	benchmarkParse(b, func(line []byte) (Event, error) {
		var f flat
		return Event{User: f.User}, json.Unmarshal(line, &f)
	})
}
