package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/atod-project/atod/detector"
)

// equivNormalize turns alert JSON (a topic record's value or a replay
// line) into its canonical form without the live-only detected_at, so that
// live and replay alerts compare byte for byte.
func equivNormalize(t testing.TB, raw []byte) string {
	t.Helper()
	var a detector.Alert
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("alert %s: %v", raw, err)
	}
	a.DetectedAt = nil
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// equivReplayLines runs `atod replay` over files (each a list of lines)
// with the config text (empty: defaults) and extra flags, and returns its
// alert lines, normalized and sorted.
func equivReplayLines(t *testing.T, config string, extra []string, files ...[][]byte) []string {
	t.Helper()
	dir := t.TempDir()
	args := []string{"replay", "--progress", "0", "--log-level", "warn"}
	if config != "" {
		path := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", path)
	}
	args = append(args, extra...)
	for i, f := range files {
		path := filepath.Join(dir, fmt.Sprintf("in%d.jsonl", i))
		var b strings.Builder
		for _, l := range f {
			b.Write(l)
			b.WriteByte('\n')
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, path)
	}
	code, out, errOut := runCLI(t, "", args...)
	if code != 0 {
		t.Fatalf("replay: exit %d: %s", code, errOut)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l != "" {
			got = append(got, equivNormalize(t, []byte(l)))
		}
	}
	sort.Strings(got)
	return got
}

// equivLiveAlerts waits until the group has committed every record of
// the input topic and returns the alerts topic's records, normalized and
// sorted.
func equivLiveAlerts(t *testing.T, broker, group string) []string {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 10 * time.Second}
	waitFor(t, "every offset committed", func() bool { return allCommittedGroup(client, group) })
	// A commit follows the alerts' delivery; give a straggler a moment.
	time.Sleep(300 * time.Millisecond)
	recs := readTopic(t, broker, testAlerts, 0)
	var got []string
	for _, r := range recs {
		got = append(got, equivNormalize(t, r.value))
	}
	sort.Strings(got)
	return got
}

// equivDiff reports the alerts only in a and only in b.
func equivDiff(a, b []string) (onlyA, onlyB []string) {
	count := map[string]int{}
	for _, s := range a {
		count[s]++
	}
	for _, s := range b {
		count[s]--
	}
	for s, n := range count {
		for ; n > 0; n-- {
			onlyA = append(onlyA, s)
		}
		for ; n < 0; n++ {
			onlyB = append(onlyB, s)
		}
	}
	sort.Strings(onlyA)
	sort.Strings(onlyB)
	return onlyA, onlyB
}

// equivCompare fails the test when got (what) differs from replay's want.
func equivCompare(t *testing.T, what string, got, want []string) {
	t.Helper()
	onlyGot, onlyWant := equivDiff(got, want)
	if len(onlyGot) == 0 && len(onlyWant) == 0 {
		t.Logf("%s: %d alerts, identical to replay", what, len(got))
		return
	}
	t.Errorf("%s gives %d alerts, replay %d; they differ:", what, len(got), len(want))
	for _, s := range onlyGot {
		t.Errorf("  only in %s: %s", what, s)
	}
	for _, s := range onlyWant {
		t.Errorf("  only in replay: %s", s)
	}
}

// equivEvent is one canonical event line.
func equivEvent(at time.Time, user, ip, outcome, reason, id string) []byte {
	if reason != "" {
		return fmt.Appendf(nil, `{"time":%q,"user":%q,"ip":%q,"type":"login","outcome":%q,"reason":%q,"id":%q}`,
			at.Format(time.RFC3339Nano), user, ip, outcome, reason, id)
	}
	return fmt.Appendf(nil, `{"time":%q,"user":%q,"ip":%q,"type":"login","outcome":%q,"id":%q}`,
		at.Format(time.RFC3339Nano), user, ip, outcome, id)
}

// equivDemo is the bundled demo tenant (testdata/demo): its config, with
// absolute paths, and its lines.
func equivDemo(t *testing.T) (config string, lines [][]byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "demo", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines = append(lines, bytes.Split(bytes.TrimSpace(raw), []byte("\n"))...)
	absGeo, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "geoip"))
	config = fmt.Sprintf("geoip:\n  city: %s/atod-test-City.mmdb\n  asn: %s/atod-test-ASN.mmdb\n  anonymous_ip: %s/atod-test-Anonymous-IP.mmdb\ntrusted_networks: [193.175.0.0/20, 192.80.0.0/20]\n",
		absGeo, absGeo, absGeo)
	return config, lines
}

// equivShuffle swaps neighbouring lines less than within apart in event
// time (never equal times), many times over: a log slightly out of order.
func equivShuffle(t *testing.T, lines [][]byte, within time.Duration) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	sh := append([][]byte(nil), lines...)
	times := make([]time.Time, len(sh))
	for i, l := range sh {
		e, err := parseForTest(l)
		if err != nil {
			t.Fatal(err)
		}
		times[i] = e.Time
	}
	for k := 0; k < 20000; k++ {
		i := r.IntN(len(sh) - 1)
		if times[i+1].Sub(times[i]) < within && !times[i+1].Equal(times[i]) {
			sh[i], sh[i+1] = sh[i+1], sh[i]
			times[i], times[i+1] = times[i+1], times[i]
		}
	}
	return sh
}

// equivProduceAt is produce with each record stamped with its event's
// time, as a shipper that stamps records with the log line's time does:
// the topic then holds a backlog by its timestamps.
func equivProduceAt(t testing.TB, broker string, values [][]byte, key func([]byte) string) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: testTopic, Balancer: &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond, BatchSize: 1000}
	defer w.Close()
	msgs := make([]kafka.Message, len(values))
	for i, v := range values {
		e, _ := parseForTest(v)
		msgs[i] = kafka.Message{Key: []byte(key(v)), Value: v, Time: e.Time}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("producing %d records: %v", len(msgs), err)
	}
}

// equivKey keys a record by its account, lower-cased, as docs/kafka.md
// asks of producers.
func equivKey(v []byte) string { return strings.ToLower(userKey(v)) }
