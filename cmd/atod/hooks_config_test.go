package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/queue"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "atod.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHooksConfigDefaultsAndPaths(t *testing.T) {
	p := writeConfig(t, `
hooks:
  dry_run: true
  limits: {max_revocations: 3, window: 5m}
  okta:
    org_url: https://example.okta.com
    api_token_file: secrets/okta
  dovecot:
    url: http://127.0.0.1:8080/doveadm/v1
sinks:
  syslog:
    address: siem.example.org:6514
    tls: true
  file:
    path: alerts.jsonl
`)
	c, err := loadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(p)
	h := c.Hooks
	switch {
	case !h.DryRun || h.Limits.MaxRevocations != 3 || h.Limits.Window != 5*time.Minute || h.Limits.Cooldown != time.Hour:
		t.Errorf("limits %+v (cooldown must keep its default)", h.Limits)
	case h.Okta == nil || !h.Okta.RevokeOAuthTokens || h.Okta.APITokenFile != filepath.Join(dir, "secrets/okta"):
		t.Errorf("okta %+v", h.Okta)
	case h.Dovecot == nil || h.Dovecot.Username != "doveadm":
		t.Errorf("dovecot %+v", h.Dovecot)
	case h.Graph != nil || h.Google != nil || h.Webhook != nil:
		t.Error("absent sections enabled")
	case c.Sinks.Syslog == nil || c.Sinks.Syslog.Facility != "authpriv" || c.Sinks.Syslog.Framing != "octet_counting":
		t.Errorf("syslog %+v", c.Sinks.Syslog)
	case c.Sinks.File == nil || c.Sinks.File.Path != filepath.Join(dir, "alerts.jsonl") || c.Sinks.File.MaxSizeMB != 100:
		t.Errorf("file %+v", c.Sinks.File)
	case h.Audit.Path != "-" || h.Retry.MaxElapsed != 2*time.Minute:
		t.Errorf("audit %+v retry %+v", h.Audit, h.Retry)
	}
}

func TestHooksConfigErrorsNameKeys(t *testing.T) {
	cases := []struct {
		text string
		want []string
	}{
		{"hooks:\n  graph:\n    tenant: x\n", []string{"hooks.graph.tenant (line 3): unknown key"}},
		{"sinks:\n  kafkaa: {}\n", []string{"sinks.kafkaa (line 2): unknown key"}},
		{"hooks:\n  graph:\n    client_id: c\n", []string{"hooks.graph.tenant_id: required", "hooks.graph.client_secret_file: required"}},
		{"hooks:\n  limits:\n    max_revocations: 0\n  okta:\n    org_url: okta\n",
			[]string{"hooks.limits.max_revocations", "hooks.okta.org_url", "hooks.okta.api_token_file: required"}},
		{"hooks:\n  max_age: 720h\n  queue:\n    retention: 24h\n", []string{"hooks.queue.retention"}},
		{"sinks:\n  syslog:\n    address: siem\n    facility: mail2\n", []string{"sinks.syslog.address", "sinks.syslog.facility"}},
		{"sinks:\n  splunk:\n    url: https://splunk:8088\n", []string{"sinks.splunk.token_file: required (or ATOD_SPLUNK_HEC_TOKEN)"}},
		{"hooks:\n  command:\n    path: revoke.sh\n", []string{"hooks.command.path"}},
	}
	for _, tc := range cases {
		c, err := loadConfig(writeConfig(t, tc.text))
		if err == nil {
			err = c.validateResponse()
		}
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%q: got %v, want %q", tc.text, err, w)
			}
		}
	}
}

// A run stopped by a signal does not wait for a queue in memory, but says
// how many jobs it loses: without Redis they end with the process.
func TestStopSaysWhatAQueueInMemoryLoses(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	r := &response{memory: queue.NewMemory(time.Hour, nil), counter: alerts.NewAuditCounter(),
		drain: time.Minute, log: zap.New(core)}
	ctx, cancel := context.WithCancel(context.Background())
	for _, id := range []string{"j1", "j2"} {
		if _, err := r.memory.Enqueue(ctx, alerts.Job{ID: id, Kind: "revoke", Target: "graph"}); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	start := time.Now()
	if err := r.stop(ctx); err == nil || !strings.Contains(err.Error(), "2 hook and sink jobs were not carried out") {
		t.Errorf("stop: %v; want an error saying 2 jobs were not carried out", err)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Errorf("an interrupted stop waited %s for the queue", waited)
	}
	lost := logs.FilterMessageSnippet("lost with this process").All()
	if len(lost) != 1 || lost[0].ContextMap()["jobs"] != int64(2) || lost[0].ContextMap()["interrupted"] != true {
		t.Errorf("log: %v; want one line saying 2 jobs are lost, interrupted", logs.All())
	}
}

// A file sink on "-" is left out, with a warning, where the command
// writes every alert to stdout itself: each alert would be printed twice.
func TestFileSinkOnStdoutIsNotDoubled(t *testing.T) {
	p := filepath.Join(t.TempDir(), "atod.yaml")
	if err := os.WriteFile(p, []byte("sinks:\n  file:\n    path: \"-\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, onStdout := range []bool{false, true} {
		core, logs := observer.New(zap.InfoLevel)
		r, err := newResponse(&cfg, responseOptions{Log: zap.New(core), AlertsOnStdout: onStdout, Stdout: io.Discard, Stderr: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		ready := logs.FilterMessage("response ready").All()
		if len(ready) != 1 {
			t.Fatalf("log: %v", logs.All())
		}
		sinks := fmt.Sprint(ready[0].ContextMap()["sinks"])
		warned := logs.FilterMessageSnippet("the file sink is left out").Len() == 1
		if strings.Contains(sinks, "file") == onStdout || warned != onStdout {
			t.Errorf("alerts on stdout %v: sinks %s, warned %v", onStdout, sinks, warned)
		}
		if err := r.stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
