package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/alerts/command"
)

// atod run hands every alert to the sinks and every revocation to the
// hooks, through the durable queue, as replay --enable-hooks does.
func TestRunHandsAlertsToHooks(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "scenarios", "stuffing_with_hit", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	broker := startKafka(t, 3)
	cfg := testRunConfig(broker)
	dir := t.TempDir()
	sinkPath, revokedPath := filepath.Join(dir, "sink.jsonl"), filepath.Join(dir, "revoked.jsonl")
	cfg.Sinks.File = &fileOutConfig{Path: sinkPath}
	cfg.Hooks.Command = &command.Config{Path: "/bin/sh", Args: []string{"-c", "cat >> " + revokedPath + "; echo >> " + revokedPath}}
	want := expectedAlerts(t, cfg, lines)
	if len(want) != 2 {
		t.Fatalf("the scenario raises %d alerts in replay, want 2", len(want))
	}
	produce(t, broker, lines, userKey)
	startRun(t, cfg)
	// Across partitions live mode may order events differently from
	// replay, so the alerts to look for are the ones on the topic.
	published, _ := alertIDs(alertsOf(t, readTopic(t, broker, testAlerts, len(want))))

	deadline := time.Now().Add(20 * time.Second)
	for {
		sink, _ := os.ReadFile(sinkPath)
		revoked, _ := os.ReadFile(revokedPath)
		sinkLines := strings.Count(string(sink), "\n")
		if sinkLines == len(want) && strings.Contains(string(revoked), `"user":"staff03@example.org"`) &&
			strings.Contains(string(revoked), `"action":"revoke_sessions"`) {
			for _, id := range published {
				if !strings.Contains(string(sink), id) {
					t.Errorf("sink file lacks alert %s:\n%s", id, sink)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20s: sink file has %d lines (want %d), revocation hook got %q", sinkLines, len(want), revoked)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
