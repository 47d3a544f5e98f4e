package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/atod-project/atod/cmd/atogen/synth"
)

// The evaluation tenant replayed with Redis state gives byte-identical
// alerts to the memory store: the two backends are interchangeable.
func TestReplayRedisMatchesMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and replays a 2,000-user tenant twice")
	}
	rs := startRedis(t)
	dir := t.TempDir()
	tenant, err := synth.Generate(synth.Config{Users: 2000, Days: 7, Seed: 1, Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	geoip, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "geoip"))
	if err := synth.WriteDir(dir, tenant, geoip); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ATOD_PSEUDONYM_KEY", "test-pseudonym-key-0123456789")
	args := []string{"replay", "--config", filepath.Join(dir, "config.yaml"), "--progress", "0", "--log-level", "warn",
		filepath.Join(dir, "events.jsonl")}
	code, memory, errOut := runCLI(t, "", args...)
	if code != 0 {
		t.Fatalf("memory replay: exit %d: %s", code, errOut)
	}
	code, redis, errOut := runCLI(t, "", append([]string{args[0], "--redis-addr", rs.addr}, args[1:]...)...)
	if code != 0 {
		t.Fatalf("redis replay: exit %d: %s", code, errOut)
	}
	if len(memory) < 1000 || memory != redis {
		t.Errorf("alerts differ: memory %d bytes, redis %d bytes", len(memory), len(redis))
	}
}
