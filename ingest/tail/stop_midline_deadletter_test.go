package tail

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/entra"
)

// ctxDLQ is a dead-letter sink that honours its context, as one that
// writes to Kafka or a file through a context-aware writer does.
type ctxDLQ struct{ n int }

func (d *ctxDLQ) DeadLetter(ctx context.Context, _ ingest.DeadLetter) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.n++
	return nil
}

// A stop in the middle of an Event Hubs line that also holds one bad
// record: the line's good events are waited for (lineGrace) and all go
// on, and so does its bad record's dead letter. Written with the stopped
// context it failed, and the line was not saved as read: the next start
// handed its events on twice, which the grace is meant to prevent.
func TestStopMidLineWithDeadLetter(t *testing.T) {
	line, ids := eventHubsLine(t)
	var env map[string]json.RawMessage
	if err := json.Unmarshal(line, &env); err != nil {
		t.Fatal(err)
	}
	var recs []json.RawMessage
	if err := json.Unmarshal(env["records"], &recs); err != nil {
		t.Fatal(err)
	}
	recs = append(recs, json.RawMessage(`{"category":"SignInLogs","properties":{"userPrincipalName":7}}`))
	env["records"], _ = json.Marshal(recs)
	line, _ = json.Marshal(env)

	dir := t.TempDir()
	log := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(log, append(line, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Path: log, PositionFile: filepath.Join(dir, "pos"), FromStart: true, Poll: 5 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var accepted []string
	dlq := &ctxDLQ{}
	_, err := (&Source{Config: cfg, Format: entra.Format()}).Run(ctx, ingest.HandlerFunc(func(hctx context.Context, e ingest.Event) error {
		if len(accepted) == 1 {
			cancel()
		}
		if err := hctx.Err(); err != nil {
			return err
		}
		accepted = append(accepted, e.ID)
		return nil
	}), dlq)
	if len(accepted) != len(ids) {
		t.Fatalf("set-up: handed on %d of the line's %d good events (err %v)", len(accepted), len(ids), err)
	}
	if err != nil {
		t.Errorf("a stop in the middle of a line whose good events all went on: %v", err)
	}
	events, _, _ := runSource(t, &Source{Config: cfg, Format: entra.Format()}, func(events, _ int) bool { return events >= len(ids) })
	time.Sleep(50 * time.Millisecond)
	if len(events) > 0 {
		t.Errorf("next start handed on %d events of the line already handed on", len(events))
	}
}
