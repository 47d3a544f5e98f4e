package dovecot

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/internal/apitest"
	"github.com/atod-project/atod/detector"
)

func newClient(t *testing.T, h http.Handler, mod func(*Config)) (*Client, *apitest.Recorder) {
	t.Helper()
	rec := &apitest.Recorder{}
	srv := httptest.NewServer(rec.Wrap(func(w http.ResponseWriter, r *http.Request, _ string) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	cfg := DefaultConfig()
	cfg.URL = srv.URL + "/doveadm/v1"
	if mod != nil {
		mod(&cfg)
	}
	env := func(k string) (string, bool) {
		switch k {
		case EnvAPIKey:
			return "k3y", cfg.PasswordFile == ""
		case EnvPassword:
			return "pw", true
		}
		return "", false
	}
	c, err := New(cfg, Options{LookupEnv: env})
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

func answer(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprint(w, body)
	})
}

var alert = detector.Alert{ID: "a1b2", User: "anna@example.org", IP: "95.24.0.7", Action: detector.ActionRevoke}

func TestKickRequest(t *testing.T) {
	cases := []struct {
		name     string
		mod      func(*Config)
		wantBody string
		wantAuth string
	}{
		{"api key", nil, `[["kick",{"mask":["anna@example.org"]},"atod-a1b2"]]`,
			"X-Dovecot-API " + base64.StdEncoding.EncodeToString([]byte("k3y"))},
		{"by address, forced", func(c *Config) { c.OnlyAlertIP, c.Force = true, true },
			`[["kick",{"force":true,"mask":["anna@example.org","95.24.0.7"]},"atod-a1b2"]]`,
			"X-Dovecot-API " + base64.StdEncoding.EncodeToString([]byte("k3y"))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, rec := newClient(t, answer(`[["doveadmResponse",[{"result":"anna@example.org"}],"atod-a1b2"]]`), tc.mod)
			if retry, err := c.Revoke(context.Background(), "anna@example.org", alert); err != nil {
				t.Fatalf("retry=%v err=%v", retry, err)
			}
			r := rec.Requests()[0]
			if r.Method != "POST" || r.Path != "/doveadm/v1" || r.Body != tc.wantBody ||
				r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Authorization") != tc.wantAuth {
				t.Errorf("%s %s %q %v", r.Method, r.Path, r.Body, r.Header)
			}
		})
	}
}

// kickAuth revokes once through a client made of cfg (its URL set to a
// test server's) and env, and returns the request's Authorization.
func kickAuth(t *testing.T, cfg Config, env map[string]string) string {
	t.Helper()
	rec := &apitest.Recorder{}
	srv := httptest.NewServer(rec.Wrap(func(w http.ResponseWriter, r *http.Request, _ string) {
		fmt.Fprint(w, `[["doveadmResponse",[],"atod-a1b2"]]`)
	}))
	defer srv.Close()
	cfg.URL = srv.URL + "/doveadm/v1"
	c, err := New(cfg, Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Revoke(context.Background(), "anna@example.org", alert); err != nil {
		t.Fatal(err)
	}
	return rec.Requests()[0].Header.Get("Authorization")
}

func TestKickBasicAuth(t *testing.T) {
	got := kickAuth(t, Config{Username: "doveadm"}, map[string]string{EnvPassword: "pw"})
	if got != "Basic "+base64.StdEncoding.EncodeToString([]byte("doveadm:pw")) {
		t.Errorf("Authorization %q", got)
	}
}

// A configured password_file wins over an API key in the environment,
// as a file wins over a variable for every secret.
func TestKickPasswordFileWinsOverEnvKey(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("filepw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := kickAuth(t, Config{Username: "doveadm", PasswordFile: pwFile}, map[string]string{EnvAPIKey: "envkey"})
	if got != "Basic "+base64.StdEncoding.EncodeToString([]byte("doveadm:filepw")) {
		t.Errorf("Authorization %q; want the password file's", got)
	}
}

func TestKickAnswers(t *testing.T) {
	cases := []struct {
		name  string
		h     http.Handler
		retry bool
		want  string // "" : success
	}{
		{"no session open", answer(`[["error",{"type":"exitCode", "exitCode":68},"atod-a1b2"]]`), false, ""},
		{"temporary failure", answer(`[["error",{"type":"exitCode", "exitCode":75},"atod-a1b2"]]`), true, "temporarily"},
		{"usage error", answer(`[["error",{"type":"exitCode", "exitCode":64},"atod-a1b2"]]`), false, "exit code 64"},
		{"unknown command", answer(`[["error",{"type":"unknownMethod"},"atod-a1b2"]]`), false, "unknownMethod"},
		{"wrong tag", answer(`[["doveadmResponse",[],"other"]]`), false, "malformed"},
		{"not JSON", answer(`<html>`), false, "malformed"},
		{"bad key", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", "X-Dovecot-API")
			w.WriteHeader(http.StatusUnauthorized)
		}), false, "HTTP 401"},
		{"overloaded", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusServiceUnavailable)
		}), true, "HTTP 503"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newClient(t, tc.h, nil)
			retry, err := c.Revoke(context.Background(), "anna@example.org", alert)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || retry != tc.retry || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("retry=%v err=%v; want retry=%v, %q", retry, err, tc.retry, tc.want)
			}
			if strings.Contains(err.Error(), "k3y") {
				t.Error("key in error")
			}
			if tc.name == "overloaded" {
				if d, _ := alerts.RetryAfter(err); d.Seconds() != 3 {
					t.Errorf("RetryAfter %s", d)
				}
			}
		})
	}
}

// doveadm kick takes a mask: a name with * or ? would end other users'
// sessions too (all of them, for "*"). Such a name is refused for good,
// and nothing is sent.
func TestKickRefusesAWildcardName(t *testing.T) {
	for _, user := range []string{"*", "ann?@example.org", "*@example.org"} {
		c, rec := newClient(t, answer(`[["doveadmResponse",[],"atod-a1b2"]]`), nil)
		retry, err := c.Revoke(context.Background(), user, alert)
		if err == nil || retry || !strings.Contains(err.Error(), "wildcard") {
			t.Errorf("%q: retry=%v err=%v; want a permanent refusal", user, retry, err)
		}
		if n := len(rec.Requests()); n != 0 {
			t.Errorf("%q: %d requests sent", user, n)
		}
	}
}
