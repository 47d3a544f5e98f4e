package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
)

// needKcat returns kcat's path; without it the test is skipped, except in
// CI, where scripts/test installs it and its absence is a failure.
func needKcat(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("kcat is not installed (scripts/test installs the Debian package kcat)")
		}
		t.Skip("kcat is not installed (Debian package kcat)")
	}
	return path
}

// Interoperability with librdkafka over TCP: events produced by kcat,
// keyed by account as docs/kafka.md asks, become alerts that kcat reads
// back, keyed by account, in the alert schema.
func TestRunWithKcat(t *testing.T) {
	kcat := needKcat(t)
	broker := startKafka(t, 3)
	cfg := testRunConfig(broker)
	lines := bruteForce(5, 12, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	want := expectedAlerts(t, cfg, lines)
	var in bytes.Buffer
	for _, l := range lines {
		in.WriteString(userKey(l) + "\t")
		in.Write(l)
		in.WriteByte('\n')
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prod := exec.CommandContext(ctx, kcat, "-P", "-b", broker, "-t", testTopic, "-K", "\t", "-X", "broker.address.family=v4")
	prod.Stdin = &in
	if out, err := prod.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}
	startRun(t, cfg)
	readTopic(t, broker, testAlerts, len(want)) // wait for them

	cons := exec.CommandContext(ctx, kcat, "-C", "-b", broker, "-t", testAlerts, "-o", "beginning", "-e", "-q",
		"-f", "%k\t%h\t%s\n", "-X", "broker.address.family=v4")
	out, err := cons.Output()
	if err != nil {
		t.Fatalf("kcat -C: %v", err)
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		key, rest, _ := strings.Cut(line, "\t")
		headers, value, _ := strings.Cut(rest, "\t")
		var a detector.Alert
		if err := json.Unmarshal([]byte(value), &a); err != nil {
			t.Fatalf("kcat read %q: %v", line, err)
		}
		if key != a.User || !strings.Contains(headers, "atod-alert-id="+a.ID) {
			t.Errorf("alert %s: key %q, headers %q; want key %q and the id header", a.ID, key, headers, a.User)
		}
		ids = append(ids, a.ID)
	}
	got, dups := alertIDs(alertsFromIDs(ids))
	if len(dups) > 0 || !equalStrings(got, want) {
		t.Errorf("kcat read %d alerts %v, want %v", len(ids), got, want)
	}
}

func alertsFromIDs(ids []string) []detector.Alert {
	as := make([]detector.Alert, len(ids))
	for i, id := range ids {
		as[i].ID = id
	}
	return as
}
