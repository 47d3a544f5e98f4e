// Package formattest holds the tests that every log format of atod passes,
// so that each parser package runs them with a few lines: golden fixtures
// (a file in the format, read as atod reads files, gives the canonical
// events and dead letters written beside it) and a fuzz target (no panic,
// only valid events, memory bounded by the input's size).
package formattest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atod-project/atod/ingest"
)

// Fixtures lists the fixture files of dir: *.json, *.jsonl and *.csv,
// without the golden files (*.events.jsonl, *.dlq.jsonl).
func Fixtures(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading fixtures: %v", err)
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasSuffix(name, ".events.jsonl") || strings.HasSuffix(name, ".dlq.jsonl") {
			continue
		}
		switch filepath.Ext(name) {
		case ".json", ".jsonl", ".csv":
			out = append(out, filepath.Join(dir, name))
		}
	}
	if len(out) == 0 {
		t.Fatalf("no fixtures in %s", dir)
	}
	return out
}

// Golden reads every fixture of dir with format forced, as atod replay
// --format does, and compares the events with NAME.events.jsonl and the
// dead letters with NAME.dlq.jsonl. With update, it writes them instead.
func Golden(t *testing.T, format ingest.Format, dir string, update bool) {
	for _, path := range Fixtures(t, dir) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			events, dead, st := Read(t, []ingest.Format{format}, path)
			for _, line := range bytes.Split(bytes.TrimSpace(events), []byte("\n")) {
				if len(line) > 0 && !bytes.Contains(line, []byte(`"source":"`+format.Name+`"`)) {
					t.Errorf("event without source %q: %s", format.Name, line)
				}
			}
			t.Logf("%+v", st)
			base := strings.TrimSuffix(path, filepath.Ext(path))
			compare(t, base+".events.jsonl", events, update)
			dlqPath := base + ".dlq.jsonl"
			if _, err := os.Stat(dlqPath); err == nil || len(dead) > 0 {
				compare(t, dlqPath, dead, update)
			}
		})
	}
}

// Read runs ingest.Files over path with formats and returns the events and
// dead letters as JSON lines, and the source's stats.
func Read(t testing.TB, formats []ingest.Format, path string) (events, dead []byte, st ingest.Stats) {
	t.Helper()
	var ev, dl bytes.Buffer
	enc := json.NewEncoder(&ev)
	enc.SetEscapeHTML(false)
	h := ingest.HandlerFunc(func(_ context.Context, e ingest.Event) error { return enc.Encode(&e) })
	files := &ingest.Files{Paths: []string{path}, Formats: formats, Workers: 2}
	st, err := files.Run(context.Background(), h, ingest.NewDeadLetterWriter(&dl))
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return ev.Bytes(), dl.Bytes(), st
}

func compare(t *testing.T, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
