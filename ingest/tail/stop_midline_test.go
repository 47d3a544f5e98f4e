package tail

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/entra"
)

// eventHubsLine is the first line of the Event Hubs fixture, a batch of
// several sign-ins, and the ids of its events.
func eventHubsLine(t *testing.T) ([]byte, []string) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "formats", "entra", "eventhubs-signinlogs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sc.Scan()
	line := append([]byte(nil), sc.Bytes()...)
	var ids []string
	if err := entra.Format().New().Decode(line, func(e ingest.Event) { ids = append(ids, e.ID) }); err != nil {
		t.Fatal(err)
	}
	if len(ids) < 2 {
		t.Fatalf("fixture line has %d events, want several", len(ids))
	}
	return line, ids
}

// stopAtSecond follows a file holding the line and stops while the line's
// second event is handled; the handler then fails as a state load from
// Redis does if its context ends before wait is over. It returns the ids
// accepted and Run's error.
func stopAtSecond(t *testing.T, cfg Config, wait time.Duration) ([]string, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var accepted []string
	_, err := (&Source{Config: cfg, Format: entra.Format()}).Run(ctx, ingest.HandlerFunc(func(hctx context.Context, e ingest.Event) error {
		if len(accepted) == 1 {
			cancel()
			select {
			case <-hctx.Done():
				return hctx.Err()
			case <-time.After(wait):
			}
		}
		accepted = append(accepted, e.ID)
		return nil
	}), nil)
	return accepted, err
}

// A stop that comes after some of a line's events went on (an Event Hubs
// batch of several sign-ins) waits for the rest of the line: the stop is
// clean and the line is saved as read, so the next start hands none of
// its events on twice.
func TestStopMidLineFinishesTheLine(t *testing.T) {
	line, ids := eventHubsLine(t)
	dir := t.TempDir()
	log := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(log, append(line, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Path: log, PositionFile: filepath.Join(dir, "pos"), FromStart: true, Poll: 5 * time.Millisecond}
	accepted, err := stopAtSecond(t, cfg, 20*time.Millisecond)
	if err != nil {
		t.Fatalf("a stop in the middle of a line: %v", err)
	}
	if !slices.Equal(accepted, ids) {
		t.Fatalf("handed on %v before stopping, want the whole line %v", accepted, ids)
	}

	// The next start reads only what was appended since.
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		t.Fatal(err)
	}
	f.Close()
	events, _, _ := runSource(t, &Source{Config: cfg, Format: entra.Format()}, func(events, _ int) bool { return events >= len(ids) })
	time.Sleep(50 * time.Millisecond) // room for a line read twice to show
	if len(events) != len(ids) {
		t.Fatalf("next start handed on %d events, want the appended line's %d", len(events), len(ids))
	}
}

// The wait is bounded: when the rest of the line does not go on within
// lineGrace, Run returns, and with an error, because the line's first
// events will be handed on again at the next start.
func TestStopMidLineWaitIsBounded(t *testing.T) {
	defer func(g time.Duration) { lineGrace = g }(lineGrace)
	lineGrace = 50 * time.Millisecond
	line, _ := eventHubsLine(t)
	dir := t.TempDir()
	log := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(log, append(line, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Path: log, PositionFile: filepath.Join(dir, "pos"), FromStart: true, Poll: 5 * time.Millisecond}
	start := time.Now()
	accepted, err := stopAtSecond(t, cfg, time.Minute)
	if err == nil {
		t.Fatal("a line left half handed on was reported as a clean stop")
	}
	if len(accepted) != 1 {
		t.Errorf("accepted %v, want the first event only", accepted)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("Run took %v to give up on the line", d)
	}
}
