package main

import (
	"fmt"
	"testing"
	"time"
)

// equivFatigue is push bombing against one account in a log with
// one-second timestamps: three MFA prompts denied, the last in the same
// second as the sign-in that the worn-down user let through. Split where
// logrotate split it, the older file ends with the denials and the newer
// begins with the success.
func equivFatigue() (older, newer [][]byte) {
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	u, ip := "nurse07@example.org", "203.0.113.50"
	older = [][]byte{
		equivEvent(at.Add(-2*time.Second), u, ip, "failure", "mfa_denied", "m-1"),
		equivEvent(at.Add(-1*time.Second), u, ip, "failure", "mfa_denied", "m-2"),
		equivEvent(at, u, ip, "failure", "mfa_denied", "m-3"),
	}
	newer = [][]byte{
		equivEvent(at, u, ip, "success", "", "m-4"),
		equivEvent(at.Add(time.Minute), u, "203.0.113.77", "success", "", "m-5"),
	}
	return older, newer
}

// TestReplayRotatedFilesAnyOrder: README promises rotated logs
// may be given "in any order" (a shell glob lists mail.log before
// mail.log.1); the alerts must be those of the one stream the files were
// cut from, also when the cut falls inside one second.
func TestReplayRotatedFilesAnyOrder(t *testing.T) {
	older, newer := equivFatigue()
	whole := append(append([][]byte{}, older...), newer...)
	want := equivReplayLines(t, "", nil, whole)
	if len(want) == 0 {
		t.Fatal("the whole log raises no alert")
	}
	equivCompare(t, "replay of older, newer", equivReplayLines(t, "", nil, older, newer), want)
	equivCompare(t, "replay of newer, older (glob order)", equivReplayLines(t, "", nil, newer, older), want)
}

// Guard: the demo tenant gives the alerts of its one file when cut into
// three files given newest first, into two interleaved sources, when
// slightly out of order (within 20 s of detector.lateness's minute), and
// with Redis state whatever the local cache holds.
func TestReplaySplitsAndStores(t *testing.T) {
	config, lines := equivDemo(t)
	want := equivReplayLines(t, config, nil, lines)
	n := len(lines)
	equivCompare(t, "three files, newest first", equivReplayLines(t, config, nil, lines[2*n/3:], lines[n/3:2*n/3], lines[:n/3]), want)
	var odd, even [][]byte
	for i, l := range lines {
		if i%2 == 0 {
			even = append(even, l)
		} else {
			odd = append(odd, l)
		}
	}
	equivCompare(t, "two interleaved sources", equivReplayLines(t, config, nil, odd, even), want)
	equivCompare(t, "shuffled within 20s", equivReplayLines(t, config, nil, equivShuffle(t, lines, 20*time.Second)), want)

	rs := startRedis(t)
	t.Setenv("ATOD_PSEUDONYM_KEY", "test-pseudonym-key-0123456789")
	for i, cache := range []string{"", "  local_cache_entries: 0\n", "  local_cache_entries: 4\n"} {
		cfg := config + "redis:\n" + cache + fmt.Sprintf("  key_prefix: \"r%d:\"\n", i)
		equivCompare(t, fmt.Sprintf("replay --redis-addr, %q", cache), equivReplayLines(t, cfg, []string{"--redis-addr", rs.addr}, lines), want)
	}
}
