package tail

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/entra"
)

// A stop that comes after some of a line's events went on (an Event Hubs
// batch of several sign-ins) is not reported as a clean stop: the line is
// read again at the next start, and its first events go on twice. Only a
// stop before the line's first event went on is clean.
func TestStopMidLineIsNoCleanStop(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "testdata", "formats", "entra", "eventhubs-signinlogs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sc.Scan()
	line := append([]byte(nil), sc.Bytes()...)
	f.Close()
	var ids []string
	if err := entra.Format().New().Decode(line, func(e ingest.Event) { ids = append(ids, e.ID) }); err != nil {
		t.Fatal(err)
	}
	if len(ids) < 2 {
		t.Fatalf("fixture line has %d events, want several", len(ids))
	}

	dir := t.TempDir()
	log := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(log, append(line, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Path: log, PositionFile: filepath.Join(dir, "pos"), FromStart: true, Poll: 5 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var accepted []string
	_, err = (&Source{Config: cfg, Format: entra.Format()}).Run(ctx, ingest.HandlerFunc(func(ctx context.Context, e ingest.Event) error {
		if len(accepted) == 1 { // the stop comes while the line's second event is handled
			cancel()
			return fmt.Errorf("loading detector state: %w", ctx.Err())
		}
		accepted = append(accepted, e.ID)
		return nil
	}), nil)
	if err == nil {
		t.Fatal("a stop after the line's first event went on was reported clean, and the next start hands that event on again")
	}
}
