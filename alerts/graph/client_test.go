package graph

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
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
	tenant = "11111111-2222-3333-4444-555555555555"
	client = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	user   = "anna.koch@example.org"
	userID = "9f2c1a77-0000-4000-8000-000000000001"
)

// fakeEntra follows the documented shapes of the token endpoint and of the
// Graph calls; graph overrides the answer to Graph calls when set.
type fakeEntra struct {
	apitest.Recorder
	tokens int
	graph  func(w http.ResponseWriter, r *http.Request) bool // true: answered
	token  func(w http.ResponseWriter) bool
}

func (f *fakeEntra) handler() http.Handler {
	return f.Wrap(func(w http.ResponseWriter, r *http.Request, _ string) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/"+tenant+"/oauth2/v2.0/token" {
			if f.token != nil && f.token(w) {
				return
			}
			f.tokens++
			fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"tok-%d"}`, f.tokens)
			return
		}
		if f.graph != nil && f.graph(w, r) {
			return
		}
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/revokeSignInSessions"):
			fmt.Fprint(w, `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean","value":true}`)
		case r.Method == http.MethodPatch, r.URL.Path == "/v1.0/identityProtection/riskyUsers/confirmCompromised":
			w.WriteHeader(http.StatusNoContent)
		case r.Method == http.MethodGet:
			fmt.Fprintf(w, `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(id)/$entity","id":%q}`, userID)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"code":"Request_ResourceNotFound","message":"Resource not found."}}`)
		}
	})
}

func newClient(t *testing.T, srvURL string, mod func(*Config)) *Client {
	t.Helper()
	cfg := DefaultConfig()
	cfg.TenantID, cfg.ClientID = tenant, client
	cfg.LoginURL, cfg.GraphURL = srvURL, srvURL+"/v1.0"
	mod(&cfg)
	env := func(k string) (string, bool) {
		if k == EnvClientSecret {
			return "s3cr3t~value", true
		}
		return "", false
	}
	c, err := New(cfg, Options{LookupEnv: env})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func alert() detector.Alert {
	return detector.Alert{ID: "a1", Rule: "compromise_after_attack", User: user, Action: detector.ActionRevoke}
}

func TestRevokeWithSecretSendsDocumentedRequests(t *testing.T) {
	f := &fakeEntra{}
	srv := httptest.NewServer(f.handler())
	defer srv.Close()
	c := newClient(t, srv.URL, func(c *Config) { c.DisableAccount, c.ConfirmCompromised = true, true })
	for range 2 {
		if retry, err := c.Revoke(context.Background(), user, alert()); err != nil {
			t.Fatalf("retry=%v err=%v", retry, err)
		}
	}
	reqs := f.Requests()
	want := []struct{ method, path, body string }{
		{"POST", "/" + tenant + "/oauth2/v2.0/token", ""},
		{"POST", "/v1.0/users/anna.koch@example.org/revokeSignInSessions", ""},
		{"PATCH", "/v1.0/users/anna.koch@example.org", `{"accountEnabled":false}`},
		{"GET", "/v1.0/users/anna.koch@example.org", ""},
		{"POST", "/v1.0/identityProtection/riskyUsers/confirmCompromised", `{"userIds":["` + userID + `"]}`},
		{"POST", "/v1.0/users/anna.koch@example.org/revokeSignInSessions", ""}, // token cached: no second token request
	}
	if len(reqs) < len(want) {
		t.Fatalf("%d requests, want at least %d: %+v", len(reqs), len(want), reqs)
	}
	for i, w := range want {
		r := reqs[i]
		if r.Method != w.method || r.Path != w.path || (w.body != "" && r.Body != w.body) {
			t.Errorf("request %d: %s %s %q, want %s %s %q", i, r.Method, r.Path, r.Body, w.method, w.path, w.body)
		}
		if i > 0 && r.Header.Get("Authorization") != "Bearer tok-1" {
			t.Errorf("request %d: Authorization %q", i, r.Header.Get("Authorization"))
		}
		if w.body != "" && r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %d: Content-Type %q", i, r.Header.Get("Content-Type"))
		}
	}
	form, err := url.ParseQuery(reqs[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	wantForm := url.Values{"client_id": {client}, "client_secret": {"s3cr3t~value"}, "grant_type": {"client_credentials"},
		"scope": {"https://graph.microsoft.com/.default"}}
	if form.Encode() != wantForm.Encode() || reqs[0].Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("token request %q (%s)", reqs[0].Body, reqs[0].Header.Get("Content-Type"))
	}
	if q := reqs[3].Query.Get("$select"); q != "id" {
		t.Errorf("lookup $select=%q", q)
	}
}

func TestRevokeWithCertificateSignsAssertion(t *testing.T) {
	keys := testkeys.New(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, keys.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keys.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	f := &fakeEntra{}
	srv := httptest.NewServer(f.handler())
	defer srv.Close()
	c := newClient(t, srv.URL, func(c *Config) { c.CertificateFile, c.PrivateKeyFile = certFile, keyFile })
	if _, err := c.Revoke(context.Background(), user, alert()); err != nil {
		t.Fatal(err)
	}
	form, _ := url.ParseQuery(f.Requests()[0].Body)
	if form.Get("client_secret") != "" || form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		t.Fatalf("token form %v", form)
	}
	header, claims, err := testkeys.VerifyJWT(form.Get("client_assertion"), &keys.Key.PublicKey)
	if err != nil {
		t.Fatalf("assertion does not verify: %v", err)
	}
	sum := sha256.Sum256(keys.CertDER)
	if header["alg"] != "PS256" || header["x5t#S256"] != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Errorf("header %v", header)
	}
	aud := srv.URL + "/" + tenant + "/oauth2/v2.0/token"
	if claims["aud"] != aud || claims["iss"] != client || claims["sub"] != client || claims["jti"] == "" {
		t.Errorf("claims %v", claims)
	}
	if exp, nbf := claims["exp"].(float64), claims["nbf"].(float64); exp-nbf <= 0 || exp-nbf > 600 {
		t.Errorf("exp-nbf = %v", exp-nbf)
	}
}

func TestRevokeFailures(t *testing.T) {
	cases := []struct {
		name      string
		graph     func(w http.ResponseWriter, r *http.Request) bool
		token     func(w http.ResponseWriter) bool
		retry     bool
		after     time.Duration
		errSubstr string
	}{
		{name: "throttled", retry: true, after: 7 * time.Second, errSubstr: "HTTP 429 TooManyRequests",
			graph: func(w http.ResponseWriter, _ *http.Request) bool {
				w.Header().Set("Retry-After", "7")
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"error":{"code":"TooManyRequests","message":"Too many requests."}}`)
				return true
			}},
		{name: "unavailable", retry: true, errSubstr: "HTTP 503",
			graph: status(http.StatusServiceUnavailable, `{"error":{"code":"serviceNotAvailable","message":"down"}}`)},
		{name: "forbidden", errSubstr: "HTTP 403 Authorization_RequestDenied: Insufficient privileges",
			graph: status(http.StatusForbidden, `{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}`)},
		{name: "no such user", errSubstr: "HTTP 404 Request_ResourceNotFound",
			graph: status(http.StatusNotFound, `{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist."}}`)},
		{name: "unauthorized twice", errSubstr: "HTTP 401 InvalidAuthenticationToken",
			graph: status(http.StatusUnauthorized, `{"error":{"code":"InvalidAuthenticationToken","message":"Access token validation failure."}}`)},
		{name: "malformed answer", errSubstr: "malformed answer",
			graph: status(http.StatusOK, `<html>proxy login</html>`)},
		{name: "false value", errSubstr: `without "value": true`,
			graph: status(http.StatusOK, `{"value":false}`)},
		{name: "bad client secret", errSubstr: "HTTP 401 invalid_client: AADSTS7000215",
			token: func(w http.ResponseWriter) bool {
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}`)
				return true
			}},
		{name: "token endpoint down", retry: true, errSubstr: "HTTP 500",
			token: func(w http.ResponseWriter) bool { w.WriteHeader(http.StatusInternalServerError); return true }},
		{name: "token not JSON", retry: true, errSubstr: "not JSON",
			token: func(w http.ResponseWriter) bool { fmt.Fprint(w, "nope"); return true }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeEntra{graph: tc.graph, token: tc.token}
			srv := httptest.NewServer(f.handler())
			defer srv.Close()
			c := newClient(t, srv.URL, func(*Config) {})
			retry, err := c.Revoke(context.Background(), user, alert())
			if err == nil || retry != tc.retry || !strings.Contains(err.Error(), tc.errSubstr) {
				t.Fatalf("retry=%v err=%v; want retry=%v and %q", retry, err, tc.retry, tc.errSubstr)
			}
			if after, _ := alerts.RetryAfter(err); after != tc.after {
				t.Errorf("RetryAfter %s, want %s", after, tc.after)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Error("secret in error message")
			}
		})
	}
}

func TestUnauthorizedRefreshesTokenOnce(t *testing.T) {
	calls := 0
	f := &fakeEntra{graph: func(w http.ResponseWriter, r *http.Request) bool {
		calls++
		if r.Header.Get("Authorization") == "Bearer tok-1" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"code":"InvalidAuthenticationToken","message":"Lifetime validation failed, the token is expired."}}`)
			return true
		}
		return false
	}}
	srv := httptest.NewServer(f.handler())
	defer srv.Close()
	c := newClient(t, srv.URL, func(*Config) {})
	if _, err := c.Revoke(context.Background(), user, alert()); err != nil {
		t.Fatal(err)
	}
	if f.tokens != 2 || calls != 2 {
		t.Errorf("tokens %d, graph calls %d; want 2 and 2", f.tokens, calls)
	}
}

func TestValidate(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	cases := []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.TenantID = "" }, "tenant_id: required"},
		{func(c *Config) { c.ClientSecretFile = "" }, "client_secret_file: required"},
		{func(c *Config) { c.CertificateFile = "x.pem" }, "set both"},
		{func(c *Config) { c.CertificateFile, c.PrivateKeyFile = "c", "k" }, "conflicts"},
		{func(c *Config) { c.GraphURL = "ftp://x" }, "graph_url"},
	}
	for _, tc := range cases {
		c := DefaultConfig()
		c.TenantID, c.ClientID, c.ClientSecretFile = tenant, client, "/run/secrets/graph"
		tc.mod(&c)
		if err := c.Validate(noEnv); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}

func status(code int, body string) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, _ *http.Request) bool {
		w.WriteHeader(code)
		fmt.Fprint(w, body)
		return true
	}
}

// A token for a national cloud's Graph is asked for with that cloud's
// scope; anything else (the global service, a proxy, a test server) with
// the global one.
func TestGraphScope(t *testing.T) {
	for graphURL, want := range map[string]string{
		"https://graph.microsoft.com/v1.0":              "https://graph.microsoft.com/.default",
		"https://graph.microsoft.us/v1.0":               "https://graph.microsoft.us/.default",
		"https://DOD-Graph.microsoft.us/v1.0":           "https://dod-graph.microsoft.us/.default",
		"https://microsoftgraph.chinacloudapi.cn/v1.0/": "https://microsoftgraph.chinacloudapi.cn/.default",
		"http://127.0.0.1:8080/v1.0":                    "https://graph.microsoft.com/.default",
		"https://graph.microsoft.us.evil.example/v1.0":  "https://graph.microsoft.com/.default",
	} {
		if got := graphScope(graphURL); got != want {
			t.Errorf("graphScope(%q) = %q, want %q", graphURL, got, want)
		}
	}
}
