package main

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

func noEnv(string) (string, bool) { return "", false }

// A listen address other machines can reach needs a token, or an explicit
// choice of none; loopback needs neither.
func TestOpsListenNeedsAuthBeyondLoopback(t *testing.T) {
	env := func(string) (string, bool) { return "0123456789abcdef", true }
	for _, c := range []struct {
		cfg  opsConfig
		env  func(string) (string, bool)
		want bool // accepted
	}{
		{opsConfig{Listen: "127.0.0.1:9477"}, noEnv, true},
		{opsConfig{Listen: "[::1]:9477"}, noEnv, true},
		{opsConfig{Listen: "localhost:9477"}, noEnv, true},
		{opsConfig{Listen: ""}, noEnv, true},
		{opsConfig{Listen: "0.0.0.0:9477"}, noEnv, false},
		{opsConfig{Listen: ":9477"}, noEnv, false},
		{opsConfig{Listen: "[::]:9477"}, noEnv, false},
		{opsConfig{Listen: "10.0.0.5:9477"}, noEnv, false},
		{opsConfig{Listen: "atod.internal:9477"}, noEnv, false},
		{opsConfig{Listen: "0.0.0.0:9477", TokenFile: "/run/secrets/ops"}, noEnv, true},
		{opsConfig{Listen: "0.0.0.0:9477"}, env, true},
		{opsConfig{Listen: "0.0.0.0:9477", AllowUnauthenticated: true}, noEnv, true},
	} {
		err := c.cfg.validateAuth(c.env)
		if (err == nil) != c.want {
			t.Errorf("%+v: %v, want accepted %v", c.cfg, err, c.want)
		}
		if err != nil && !strings.Contains(err.Error(), "ops.token_file") {
			t.Errorf("%+v: %v does not say what to set", c.cfg, err)
		}
	}
}

// With a token, /metrics answers only requests that carry it, /readyz
// gives its reasons only to them, and /healthz stays open for probes.
func TestOpsToken(t *testing.T) {
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "token")
	const tok = "s3cret-0123456789abcdef"
	if err := os.WriteFile(tokFile, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "atod_test_total", Help: "x"}))
	ops, err := startOps(opsConfig{Listen: "127.0.0.1:0", TokenFile: tokFile}, reg,
		func() error { return errTestNotReady }, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer ops.Close()
	get := func(path, auth string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+ops.Addr()+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b := new(strings.Builder)
		_, _ = io.Copy(b, resp.Body)
		return resp.StatusCode, b.String()
	}
	if code, _ := get("/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without a token: %d, want 401", code)
	}
	if code, _ := get("/metrics", "Bearer wrong-token-0123456789"); code != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong token: %d, want 401", code)
	}
	if code, body := get("/metrics", "Bearer "+tok); code != 200 || !strings.Contains(body, "atod_test_total") {
		t.Errorf("/metrics with the token: %d %q", code, body)
	}
	if code, _ := get("/healthz", ""); code != 200 {
		t.Errorf("/healthz: %d, want 200 without a token", code)
	}
	if code, body := get("/readyz", ""); code != 503 || strings.Contains(body, "10.0.0.7") {
		t.Errorf("/readyz without a token: %d %q; want 503 without the reason", code, body)
	}
	if code, body := get("/readyz", "Bearer "+tok); code != 503 || !strings.Contains(body, "10.0.0.7") {
		t.Errorf("/readyz with the token: %d %q; want 503 with the reason", code, body)
	}
	// A short token is refused at start.
	if err := os.WriteFile(tokFile, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := startOps(opsConfig{Listen: "127.0.0.1:0", TokenFile: tokFile}, reg, nil, zap.NewNop()); err == nil ||
		!strings.Contains(err.Error(), "ops.token_file") {
		t.Errorf("a 5-character token: %v, want refused naming ops.token_file", err)
	}
	// From the environment, the error names the variable, not the file.
	env := func(k string) (string, bool) { return map[string]string{envOpsToken: "short"}[k], k == envOpsToken }
	if _, err := (&opsConfig{}).token(env); err == nil || !strings.Contains(err.Error(), envOpsToken) ||
		strings.Contains(err.Error(), "token_file") {
		t.Errorf("a short %s: %v, want refused naming the variable", envOpsToken, err)
	}
}

var errTestNotReady = errors.New("redis: dial tcp 10.0.0.7:6379: connection refused")
