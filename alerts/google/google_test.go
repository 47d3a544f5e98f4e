package google

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/internal/apitest"
	"github.com/atod-project/atod/alerts/internal/testkeys"
	"github.com/atod-project/atod/detector"
)

const (
	saEmail = "atod-revoker@atod-prod.iam.gserviceaccount.com"
	admin   = "secops-admin@example.org"
	user    = "anna.koch@example.org"
)

type fakeGoogle struct {
	apitest.Recorder
	api   func(w http.ResponseWriter) bool
	token func(w http.ResponseWriter) bool
}

func (f *fakeGoogle) handler() http.Handler {
	return f.Wrap(func(w http.ResponseWriter, r *http.Request, _ string) {
		if r.URL.Path == "/token" {
			w.Header().Set("Content-Type", "application/json")
			if f.token != nil && f.token(w) {
				return
			}
			fmt.Fprint(w, `{"access_token":"ya29.test-token","expires_in":3599,"token_type":"Bearer"}`)
			return
		}
		if f.api != nil && f.api(w) {
			return
		}
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/signOut") {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	})
}

func setup(t *testing.T, f *fakeGoogle) (*Client, testkeys.Pair, string) {
	t.Helper()
	keys := testkeys.New(t)
	srv := httptest.NewServer(f.handler())
	t.Cleanup(srv.Close)
	key := map[string]string{"type": "service_account", "project_id": "atod-prod", "private_key_id": "kid-123",
		"private_key": string(keys.KeyPEM), "client_email": saEmail, "token_uri": srv.URL + "/token"}
	raw, _ := json.Marshal(key)
	path := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.CredentialsFile, cfg.Subject, cfg.BaseURL = path, admin, srv.URL
	c, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c, keys, srv.URL
}

func TestSignOutSendsDocumentedRequests(t *testing.T) {
	f := &fakeGoogle{}
	c, keys, base := setup(t, f)
	if _, err := c.Revoke(context.Background(), user, detector.Alert{ID: "a1"}); err != nil {
		t.Fatal(err)
	}
	reqs := f.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests: %+v", len(reqs), reqs)
	}
	tok, api := reqs[0], reqs[1]
	form, _ := url.ParseQuery(tok.Body)
	if tok.Method != "POST" || form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || len(form) != 2 {
		t.Fatalf("token request %s %q", tok.Method, tok.Body)
	}
	header, claims, err := testkeys.VerifyJWT(form.Get("assertion"), &keys.Key.PublicKey)
	if err != nil {
		t.Fatalf("assertion: %v", err)
	}
	if header["alg"] != "RS256" || header["kid"] != "kid-123" || header["typ"] != "JWT" {
		t.Errorf("header %v", header)
	}
	if claims["iss"] != saEmail || claims["sub"] != admin || claims["scope"] != Scope || claims["aud"] != base+"/token" {
		t.Errorf("claims %v", claims)
	}
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != 3600 {
		t.Errorf("exp-iat %v", exp-iat)
	}
	if api.Method != "POST" || api.Path != "/admin/directory/v1/users/anna.koch@example.org/signOut" || api.Body != "" ||
		api.Header.Get("Authorization") != "Bearer ya29.test-token" {
		t.Errorf("API request %s %s %q %v", api.Method, api.Path, api.Body, api.Header)
	}
}

func TestSignOutFailures(t *testing.T) {
	cases := []struct {
		name       string
		api, token func(w http.ResponseWriter) bool
		retry      bool
		after      time.Duration
		want       string
	}{
		{name: "rate limited", retry: true, after: 30 * time.Second, want: "HTTP 429 RESOURCE_EXHAUSTED",
			api: func(w http.ResponseWriter) bool {
				w.Header().Set("Retry-After", "30")
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}`)
				return true
			}},
		{name: "not authorized", want: "HTTP 403 forbidden: Not Authorized to access this resource/api",
			api: func(w http.ResponseWriter) bool {
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprint(w, `{"error":{"code":403,"message":"Not Authorized to access this resource/api","errors":[{"message":"Not Authorized to access this resource/api","domain":"global","reason":"forbidden"}]}}`)
				return true
			}},
		{name: "unknown user", want: "HTTP 404",
			api: func(w http.ResponseWriter) bool {
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprint(w, `{"error":{"code":404,"message":"Resource Not Found: userKey","errors":[{"reason":"notFound"}]}}`)
				return true
			}},
		{name: "backend error", retry: true, want: "HTTP 502",
			api: func(w http.ResponseWriter) bool { w.WriteHeader(http.StatusBadGateway); return true }},
		{name: "delegation missing", want: "HTTP 401 unauthorized_client",
			token: func(w http.ResponseWriter) bool {
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"error":"unauthorized_client","error_description":"Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested."}`)
				return true
			}},
		{name: "token without access_token", retry: true, want: "no access_token",
			token: func(w http.ResponseWriter) bool { fmt.Fprint(w, `{"token_type":"Bearer"}`); return true }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _, _ := setup(t, &fakeGoogle{api: tc.api, token: tc.token})
			retry, err := c.Revoke(context.Background(), user, detector.Alert{})
			if err == nil || retry != tc.retry || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("retry=%v err=%v; want retry=%v, %q", retry, err, tc.retry, tc.want)
			}
			if after, _ := alerts.RetryAfter(err); after != tc.after {
				t.Errorf("RetryAfter %s, want %s", after, tc.after)
			}
		})
	}
}

func TestNewRejectsWrongKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(path, []byte(`{"type":"authorized_user"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.CredentialsFile, cfg.Subject = path, admin
	if _, err := New(cfg, Options{}); err == nil || !strings.Contains(err.Error(), "not a service account key") {
		t.Fatalf("got %v", err)
	}
	cfg.Subject = ""
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "subject:") {
		t.Fatalf("got %v", err)
	}
}
