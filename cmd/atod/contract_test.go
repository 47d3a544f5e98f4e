package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/redisstore"
)

// cmd/atod against DESIGN.md's contracts (command line, config keys,
// alert schema) and of the YAML examples in README.md and docs/*.md.

// contractGeo is the absolute path of the test GeoIP databases.
func contractGeo(t *testing.T) string {
	t.Helper()
	geo, err := filepath.Abs(filepath.Join("..", "..", "testdata", "geoip"))
	if err != nil {
		t.Fatal(err)
	}
	return geo
}

// DESIGN.md: detected_at is "wall-clock time of the decision; live mode
// only (replay output stays deterministic)", and "A replay of the same
// input with the same config writes byte-identical alert lines". A replay
// with --enable-hooks whose revocation limit trips prints the limit's
// alert among its alert lines: it must carry no detected_at.
func TestReplayAlertLinesHaveNoDetectedAt(t *testing.T) {
	dir := t.TempDir()
	hook := filepath.Join(dir, "revoke.sh")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\nexit 0\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeHooksConfig(t, dir, fmt.Sprintf("  limits:\n    max_revocations: 1\n    window: 1h\n  command:\n    path: %s\n", hook))
	story, err := os.ReadFile(filepath.Join("..", "..", "testdata", "scenarios", "brute_force_then_success", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	other := strings.NewReplacer("anna.koch@", "ben.roth@", `"id":"`, `"id":"b`).Replace(string(story))
	code, stdout, stderr := runCLI(t, string(story)+other, "replay", "--config", cfgPath, "--enable-hooks", "--progress", "0", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := 0
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		lines++
		if _, ok := m["detected_at"]; ok {
			t.Errorf("DESIGN.md: detected_at is live mode only, replay output stays deterministic; "+
				"atod replay --enable-hooks printed an alert line (rule %v) with the wall clock in detected_at: %s", m["rule"], line)
		}
	}
	if lines == 0 {
		t.Fatal("no alert lines")
	}
}

// DESIGN.md: "a bad value stops the program with a message naming the
// key"; README: "Unknown keys ... stop the program with a message naming
// the key". Every other config message names the key by its dotted path
// (kafka.start, detector.lateness); an unknown key is named bare, with a
// Go type dump instead of its section.
func TestUnknownKeyNamedByItsPath(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ yaml, key string }{
		{"geoip:\n  citty: x.mmdb\n", "geoip.citty"},
		{"kafka:\n  topc: signins\n", "kafka.topc"},
		{"redis:\n  adrs: [127.0.0.1:7000]\n", "redis.adrs"},
		{"detector:\n  policy:\n    alert_scor: 50\n", "detector.policy.alert_scor"},
	} {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(tt.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runCLI(t, "", "replay", "--config", p, "--progress", "0", "-")
		if code != 2 {
			t.Errorf("%q: exit %d, want 2", tt.yaml, code)
		}
		if !strings.Contains(stderr, tt.key) || strings.Contains(stderr, "main.") || strings.Contains(stderr, "struct {") {
			t.Errorf("DESIGN.md/README: an unknown key stops the program with a message naming the key (%s); got %q",
				tt.key, strings.TrimSpace(stderr))
		}
	}
}

// DESIGN.md config keys with their defaults ("Every key has a default
// where one is sensible"): the values of DESIGN.md's example are the
// defaults where one is sensible, and docs/kafka.md documents them so.
// No existing test loads a config without a kafka section and checks them.
func TestDesignKeyDefaults(t *testing.T) {
	c, err := loadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	k := c.Kafka
	if len(k.Brokers) != 1 || k.Brokers[0] != "127.0.0.1:9092" {
		t.Errorf("kafka.brokers default %v, docs/kafka.md and DESIGN.md: [127.0.0.1:9092]", k.Brokers)
	}
	for _, kv := range [][3]string{
		{"kafka.topic", k.Topic, "signins"}, {"kafka.group", k.Group, "atod"}, {"kafka.start", string(k.Start), "earliest"},
		{"kafka.alerts_topic", k.AlertsTopic, "atod-alerts"}, {"kafka.dlq_topic", k.DLQTopic, "atod-dlq"},
	} {
		if kv[1] != kv[2] {
			t.Errorf("%s default %q, DESIGN.md/docs/kafka.md: %q", kv[0], kv[1], kv[2])
		}
	}
	// replay: "in-memory state is its default"; redis.addrs names no server
	// unless given (docs/kafka.md "none: state in memory").
	if len(c.Redis.Addrs) != 0 {
		t.Errorf("redis.addrs default %v: replay's default must be in-memory state", c.Redis.Addrs)
	}
	if c.Detector.Lateness != time.Minute {
		t.Errorf("detector.lateness default %s, README: 1m", c.Detector.Lateness)
	}
	if c.Detector.Policy.AlertScore != 50 || c.Detector.Policy.RevokeScore != 85 {
		t.Errorf("detector.policy defaults %+v, README: alert_score 50, revoke_score 85", c.Detector.Policy)
	}
	// DESIGN.md: "start: earliest ... a detector must not skip what is
	// already queued"; the other documented value is latest; anything else
	// stops run with a message naming the key.
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(p, []byte("kafka:\n  start: newest\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "", "run", "--config", p)
	if code != 2 || !strings.Contains(stderr, "kafka.start") {
		t.Errorf("run with kafka.start: newest: exit %d, %q; want exit 2 naming kafka.start", code, stderr)
	}
}

// DESIGN.md: "flags override" the config. --geoip-city and --geoip-asn
// override geoip.city and geoip.asn when a config sets them (the existing
// test gives --geoip-city without a config); --redis-addr overrides
// redis.addrs. Port 1 and 2 of the loopback: refused at once, no server.
func TestFlagsOverrideConfig(t *testing.T) {
	dir := t.TempDir()
	geo := contractGeo(t)
	p := filepath.Join(dir, "c.yaml")
	cfg := "geoip:\n  city: missing-city.mmdb\n  asn: missing-asn.mmdb\nredis:\n  addrs: [127.0.0.1:1]\n  allow_plain_keys: true\n"
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	in := `{"time":"2026-03-02T08:00:00Z","user":"a@example.org","ip":"192.0.2.1","outcome":"success"}` + "\n"
	// Without flags the config's files are used: missing, exit 2 naming the key.
	code, _, stderr := runCLI(t, in, "events", "--config", p, "--progress", "0", "-")
	if code != 2 || !strings.Contains(stderr, "geoip.") {
		t.Fatalf("config with missing databases: exit %d, %q", code, stderr)
	}
	code, out, stderr := runCLI(t, in, "events", "--config", p, "--progress", "0",
		"--geoip-city", filepath.Join(geo, "atod-test-City.mmdb"), "--geoip-asn", filepath.Join(geo, "atod-test-ASN.mmdb"), "-")
	if code != 0 || !strings.Contains(out, `"user":"a@example.org"`) {
		t.Errorf("--geoip-city/--geoip-asn do not override geoip.city/geoip.asn: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	code, _, stderr = runCLI(t, in, "replay", "--config", p, "--progress", "0",
		"--geoip-city", filepath.Join(geo, "atod-test-City.mmdb"), "--geoip-asn", filepath.Join(geo, "atod-test-ASN.mmdb"),
		"--redis-addr", "127.0.0.1:2", "-")
	if code != 1 || !strings.Contains(stderr, "127.0.0.1:2") || strings.Contains(stderr, "127.0.0.1:1]") {
		t.Errorf("--redis-addr does not override redis.addrs (want the flag's unreachable 127.0.0.1:2 named, exit 1): exit %d, %q", code, stderr)
	}
}

// The YAML examples of README.md, docs/*.md and DESIGN.md are configs a
// user copies: each must decode (key names and types) with loadConfig.
func TestDocumentedYAMLDecodes(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	files = append(files, filepath.Join("..", "..", "README.md"), filepath.Join("..", "..", "..", "..", "shared", "DESIGN.md"))
	block := regexp.MustCompile("(?s)```yaml\n(.*?)```")
	placeholder := regexp.MustCompile(`(?m)^\s*[a-z_]+: \.\.\..*\n`)
	dir := t.TempDir()
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			if strings.Contains(f, "DESIGN") {
				continue
			}
			t.Fatal(err)
		}
		for i, m := range block.FindAllSubmatch(b, -1) {
			n++
			p := filepath.Join(dir, fmt.Sprintf("%s-%d.yaml", filepath.Base(f), i))
			// "graph: ...   # each provider below" is a placeholder, not a value.
			text := placeholder.ReplaceAll(m[1], nil)
			if err := os.WriteFile(p, text, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := loadConfig(p); err != nil {
				t.Errorf("%s, YAML example %d does not load: %v\n%s", f, i+1, err, m[1])
			}
		}
	}
	if n == 0 {
		t.Fatal("no YAML examples found")
	}
}

// DESIGN.md alert schema: field names, JSON types, and value ranges, on
// every alert of the bundled demo tenant (the README's first command).
// user is present (empty for an address alert), score 0..100, severity and
// action from their lists, time RFC 3339 in UTC, reasons and evidence
// arrays (never null), no detected_at in replay; and the ids of a second
// replay are the same.
func TestDemoAlertsKeepTheSchema(t *testing.T) {
	demo := filepath.Join("..", "..", "testdata", "demo")
	args := []string{"replay", "--config", filepath.Join(demo, "config.yaml"), "--progress", "0", "--log-level", "error", filepath.Join(demo, "events.jsonl")}
	code, out, stderr := runCLI(t, "", args...)
	if code != 0 {
		t.Fatalf("README's first command: exit %d: %s", code, stderr)
	}
	code2, out2, _ := runCLI(t, "", args...)
	if code2 != 0 || out2 != out {
		t.Errorf("DESIGN.md: a replay of the same input with the same config writes byte-identical alert lines; two runs differ")
	}
	allowed := map[string]bool{"id": true, "time": true, "rule": true, "user": true, "users": true, "ip": true, "score": true,
		"severity": true, "action": true, "reasons": true, "evidence": true, "geo": true, "detected_at": true, "tenant": true}
	rfc3339Z := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 10 {
		t.Fatalf("only %d alerts", len(lines))
	}
	for _, line := range lines {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		for k := range m {
			if !allowed[k] {
				t.Errorf("alert field %q is not in DESIGN.md's alert schema: %s", k, line)
			}
		}
		for _, k := range []string{"id", "time", "rule", "user", "score", "severity", "action", "reasons", "evidence"} {
			if _, ok := m[k]; !ok {
				t.Errorf("alert lacks %q: %s", k, line)
			}
		}
		if _, ok := m["detected_at"]; ok {
			t.Errorf("replay alert has detected_at: %s", line)
		}
		var a detector.Alert
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		var ts string
		_ = json.Unmarshal(m["time"], &ts)
		if !rfc3339Z.MatchString(ts) {
			t.Errorf("alert time %q is not RFC 3339 in UTC", ts)
		}
		if a.Score < 0 || a.Score > 100 || a.Severity != detector.SeverityOf(a.Score) {
			t.Errorf("score %d severity %q", a.Score, a.Severity)
		}
		if a.Action != "alert" && a.Action != "revoke_sessions" {
			t.Errorf("action %q", a.Action)
		}
		if string(m["reasons"]) == "null" || string(m["evidence"]) == "null" || len(a.Reasons) == 0 {
			t.Errorf("reasons/evidence must be arrays with reasons: %s", line)
		}
		if a.User == "" && len(a.Users) == 0 {
			t.Errorf("alert about neither an account nor an address's accounts: %s", line)
		}
		if a.Action == "revoke_sessions" && a.User == "" {
			t.Errorf("revoke_sessions without the account to revoke: %s", line)
		}
		if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(a.ID) {
			t.Errorf("id %q", a.ID)
		}
	}
}

// DESIGN.md: detected_at is the "wall-clock time of the decision; live
// mode only"; docs/hooks.md: alerts are "in the JSON of DESIGN.md (with
// detected_at in live mode)". atod run with a follow: section is live mode
// (README: "a follow: section makes run follow a local log file ... and
// write alerts to stdout"), so its alerts carry detected_at, as run's
// Kafka alerts do (TestRunEndToEnd).
func TestFollowModeAlertsHaveDetectedAt(t *testing.T) {
	dir := t.TempDir()
	story, err := os.ReadFile(filepath.Join("..", "..", "testdata", "scenarios", "brute_force_then_success", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "signins.log"), story, 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "atod.yaml")
	if err := os.WriteFile(cfgPath, []byte("follow:\n  path: signins.log\n  from_start: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, ok := runUntil(t, cfgPath, 20*time.Second, func(s string) bool { return strings.Contains(s, `"rule":"brute_force"`) })
	if !ok {
		t.Fatalf("no alert from follow mode: %q", out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if _, ok := m["detected_at"]; !ok {
			t.Errorf("DESIGN.md: detected_at, the wall-clock time of the decision, is written in live mode; "+
				"atod run in follow mode wrote an alert without it: %s", line)
		}
	}
}

// DESIGN.md: the event's id is "the source's event id; used as evidence
// and for deduplication". A source that delivers a record twice (at-least-
// once delivery, overlapping API pages, an export given twice) must not
// count it twice: 6 failed sign-ins, each delivered twice with its id, are
// below brute_force's 10 (detector.brute_force.min_failures default).
func TestDuplicateEventIDsAreDeduplicated(t *testing.T) {
	geo := contractGeo(t)
	var in strings.Builder
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	for i := 0; i < 6; i++ {
		line := fmt.Sprintf(`{"time":"%s","user":"anna.koch@example.org","ip":"95.24.0.7","outcome":"failure","reason":"bad_password","id":"f%d"}`+"\n",
			t0.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), i)
		in.WriteString(line + line)
	}
	code, out, stderr := runCLI(t, in.String(), "replay", "--progress", "0", "--log-level", "error",
		"--geoip-city", filepath.Join(geo, "atod-test-City.mmdb"), "--geoip-asn", filepath.Join(geo, "atod-test-ASN.mmdb"), "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.TrimSpace(out) != "" {
		t.Errorf("DESIGN.md: the event id is used for deduplication; 6 failed sign-ins delivered twice each (same id) "+
			"were counted as 12 and raised: %s", out)
	}
}

// DESIGN.md: redis.addrs "one address: single node; several: Redis
// Cluster". New does not connect; the client's kind is the contract.
func TestRedisAddrsOneSingleSeveralCluster(t *testing.T) {
	for _, tt := range []struct {
		addrs   []string
		cluster bool
	}{
		{[]string{"127.0.0.1:1"}, false},
		{[]string{"127.0.0.1:1", "127.0.0.1:2"}, true},
		{[]string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"}, true},
	} {
		cfg := redisstore.DefaultConfig()
		cfg.Addrs, cfg.AllowPlainKeys = tt.addrs, true
		rs, err := redisstore.New(cfg, redisstore.Options{UserRetention: 30 * 24 * time.Hour, AddrRetention: 24 * time.Hour,
			LookupEnv: func(string) (string, bool) { return "", false }})
		if err != nil {
			t.Fatal(err)
		}
		_, isCluster := rs.Client().(*redis.ClusterClient)
		_, isSingle := rs.Client().(*redis.Client)
		if isCluster != tt.cluster || isSingle == tt.cluster {
			t.Errorf("redis.addrs %v: client %T; DESIGN.md: one address single node, several Redis Cluster", tt.addrs, rs.Client())
		}
		rs.Close()
	}
}

// DESIGN.md: trusted_networks are "corporate egress, VPN concentrators:
// never evidence of travel or attack". Denied MFA prompts and the success
// after them, all from the trusted network, are no evidence of an attack.
func TestTrustedNetworkNeverEvidenceOfAttack(t *testing.T) {
	dir := t.TempDir()
	geo := contractGeo(t)
	p := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(p, []byte(fmt.Sprintf("geoip:\n  city: %s/atod-test-City.mmdb\n  asn: %s/atod-test-ASN.mmdb\ntrusted_networks: [193.175.0.0/20]\n", geo, geo)), 0o600); err != nil {
		t.Fatal(err)
	}
	in := `{"time":"2026-03-02T08:00:00Z","user":"anna@example.org","ip":"193.175.0.5","outcome":"failure","reason":"mfa_denied","id":"m1"}
{"time":"2026-03-02T08:01:00Z","user":"anna@example.org","ip":"193.175.0.5","outcome":"failure","reason":"mfa_denied","id":"m2"}
{"time":"2026-03-02T08:02:00Z","user":"anna@example.org","ip":"193.175.0.5","outcome":"failure","reason":"mfa_timeout","id":"m3"}
{"time":"2026-03-02T08:03:00Z","user":"anna@example.org","ip":"193.175.0.5","outcome":"success","id":"m4"}
`
	code, out, stderr := runCLI(t, in, "replay", "--config", p, "--progress", "0", "--log-level", "error", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.TrimSpace(out) != "" {
		t.Errorf("DESIGN.md: trusted networks are never evidence of attack; events only from trusted 193.175.0.0/20 raised: %s", out)
	}
}

// README: unknown keys and wrong types anywhere stop the program; replay
// does not check the values of kafka:, ops:, nor of hooks: and sinks:
// without --enable-hooks. (It said a wrong type there passed too.)
func TestReplaySectionsItDoesNotCheck(t *testing.T) {
	dir := t.TempDir()
	in := `{"time":"2026-03-02T08:00:00Z","user":"a@example.org","ip":"192.0.2.1","outcome":"success"}` + "\n"
	for _, tt := range []struct {
		yaml, key string
		code      int
	}{
		{"kafka:\n  start: bogus\n", "kafka.start", 0},
		{"hooks:\n  workers: 0\n", "hooks.workers", 0},
		{"kafka:\n  max_hold: soon\n", "kafka.max_hold", 2},
		{"ops:\n  shutdown_timeout: soon\n", "ops.shutdown_timeout", 2},
		{"hooks:\n  workers: many\n", "hooks.workers", 2},
	} {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(tt.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runCLI(t, in, "replay", "--config", p, "--progress", "0", "--log-level", "error", "-")
		if code != tt.code || (code == 2 && !strings.Contains(stderr, tt.key)) {
			t.Errorf("%q: replay exits %d (%s), want %d naming %s", tt.yaml, code, strings.TrimSpace(stderr), tt.code, tt.key)
		}
	}
}

// DESIGN.md's command lines and README's "Commands" synopsis: every flag
// they list exists on its command (its --help lists it), and a flag a
// command does not take is a usage error (exit 2).
func TestDocumentedFlagsExist(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	design, _ := os.ReadFile(filepath.Join("..", "..", "..", "..", "shared", "DESIGN.md"))
	text := string(readme) + "\n" + string(design)
	flagRe := regexp.MustCompile(`\[?(--[a-z-]+)`)
	want := map[string]map[string]bool{"replay": {}, "events": {}, "run": {}}
	cmd := ""
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 2 && f[0] == "atod" && want[f[1]] != nil:
			cmd = f[1]
		case len(f) > 0 && strings.HasPrefix(f[0], "[--") && cmd != "":
			// a continuation line of the synopsis
		default:
			cmd = ""
			continue
		}
		for _, m := range flagRe.FindAllStringSubmatch(strings.SplitN(l, "#", 2)[0], -1) {
			want[cmd][m[1]] = true
		}
	}
	if len(want["replay"]) < 8 || !want["events"]["--config"] || !want["run"]["--config"] {
		t.Fatalf("synopsis not found: %v", want)
	}
	for cmd, flags := range want {
		_, _, help := runCLI(t, "", cmd, "--help")
		for f := range flags {
			if !regexp.MustCompile(`(?m)^\s+-` + regexp.QuoteMeta(f[2:]) + `\b`).MatchString(help) {
				t.Errorf("README/DESIGN.md: atod %s takes %s; its --help does not list it:\n%s", cmd, f, help)
			}
		}
	}
	if code, _, _ := runCLI(t, "", "events", "--redis-addr", "127.0.0.1:1", "-"); code != 2 {
		t.Errorf("events --redis-addr (not in its synopsis): exit %d, want 2", code)
	}
}
