package stream

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/ingest"
)

func TestStreamIsCanonicalSortedAndDeterministic(t *testing.T) {
	cfg := Config{Events: 2000, Users: 50, Span: 24 * time.Hour, Seed: 3, Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}
	var a, b bytes.Buffer
	if err := Write(&a, cfg); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b, cfg); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed, different bytes")
	}
	lines := strings.Split(strings.TrimSuffix(a.String(), "\n"), "\n")
	if len(lines) != 2000 {
		t.Fatalf("%d lines", len(lines))
	}
	var last time.Time
	kinds := map[string]int{}
	for i, l := range lines {
		e, err := ingest.ParseCanonical([]byte(l))
		if err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, l)
		}
		if e.Time.Before(last) {
			t.Fatalf("line %d out of order", i+1)
		}
		last = e.Time
		kinds[e.Type+"/"+e.Outcome]++
	}
	if kinds["login/success"] == 0 || kinds["login/failure"] == 0 || kinds["mailbox_access/"] == 0 {
		t.Errorf("event mix %v lacks a kind", kinds)
	}
	n, err := Floor(strings.NewReader(a.String()))
	if err != nil || n != 2000 {
		t.Errorf("Floor = %d, %v", n, err)
	}
}
