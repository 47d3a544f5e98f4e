package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/atod-project/atod/alerts/command"
	"github.com/atod-project/atod/alerts/queue/redistest"
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

// With Redis state and a pseudonym key, nothing atod keeps in Redis names
// the account it revoked or the addresses it saw: not the state, not the
// hooks' queue (whose settled job ids stay for the retention), not the
// outbox.
func TestRunKeepsNoNameInRedis(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "scenarios", "stuffing_with_hit", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	rs := startRedis(t)
	broker := startKafka(t, 3)
	cfg := testRunConfig(broker)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "pseudonym.key")
	if err := os.WriteFile(keyFile, []byte("a pseudonym key of at least 16 bytes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Redis.Addrs, cfg.Redis.PseudonymKeyFile = []string{rs.addr}, keyFile
	revokedPath := filepath.Join(dir, "revoked.jsonl")
	cfg.Hooks.Command = &command.Config{Path: "/bin/sh", Args: []string{"-c", "cat >> " + revokedPath + "; echo >> " + revokedPath}}
	produce(t, broker, lines, userKey)
	startRun(t, cfg)
	waitFor(t, "the revocation hook called", func() bool {
		revoked, _ := os.ReadFile(revokedPath)
		return strings.Contains(string(revoked), `"user":"staff03@example.org"`)
	})
	client := redis.NewClient(&redis.Options{Addr: rs.addr})
	defer client.Close()
	// The scenario's accounts are staffNN@example.org; its addresses those
	// of the events.
	words := []string{"staff", "example.org"}
	for _, l := range lines {
		var ev struct{ IP string }
		if json.Unmarshal(l, &ev) == nil && ev.IP != "" {
			words = append(words, ev.IP)
		}
	}
	var hooksKeys int
	for _, k := range redistest.NoneNamed(t, client, words...) {
		hooksKeys += strings.Count(k, "{hooks}")
	}
	if hooksKeys == 0 {
		t.Error("no key of the hooks' queue in Redis: the test looked at nothing of it")
	}
}
