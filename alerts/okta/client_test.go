package okta

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/internal/apitest"
	"github.com/atod-project/atod/alerts/internal/testkeys"
	"github.com/atod-project/atod/detector"
)

const (
	login  = "anna.koch@example.org"
	userID = "00ub0oNGTSWTBKOLGLNR"
)

type fakeOkta struct {
	apitest.Recorder
	api func(w http.ResponseWriter, r *http.Request) bool
}

func (f *fakeOkta) handler() http.Handler {
	return f.Wrap(func(w http.ResponseWriter, r *http.Request, _ string) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/oauth2/v1/token" {
			fmt.Fprint(w, `{"token_type":"Bearer","expires_in":3600,"access_token":"eyJ.okta.token","scope":"okta.users.read okta.users.manage"}`)
			return
		}
		if f.api != nil && f.api(w, r) {
			return
		}
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/v1/users/"+login:
			fmt.Fprintf(w, `{"id":%q,"status":"ACTIVE","profile":{"login":%q}}`, userID, login)
		case r.Method == http.MethodDelete && r.URL.Path == "/api/v1/users/"+userID+"/sessions":
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errorCode":"E0000007","errorSummary":"Not found: Resource not found: x (User)","errorLink":"E0000007","errorId":"oaeX","errorCauses":[]}`)
		}
	})
}

func newSSWS(t *testing.T, f *fakeOkta) *Client {
	t.Helper()
	srv := httptest.NewServer(f.handler())
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "okta-token")
	if err := os.WriteFile(tokFile, []byte("00abcSSWStoken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.OrgURL, cfg.APITokenFile = srv.URL, tokFile
	c, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRevokeWithAPIToken(t *testing.T) {
	f := &fakeOkta{}
	c := newSSWS(t, f)
	for range 2 {
		if _, err := c.Revoke(context.Background(), login, detector.Alert{ID: "a1"}); err != nil {
			t.Fatal(err)
		}
	}
	reqs := f.Requests()
	want := []string{"GET /api/v1/users/anna.koch@example.org", "DELETE /api/v1/users/" + userID + "/sessions",
		"DELETE /api/v1/users/" + userID + "/sessions"} // id remembered
	if len(reqs) != len(want) {
		t.Fatalf("requests %+v", reqs)
	}
	for i, r := range reqs {
		if r.Method+" "+r.Path != want[i] || r.Header.Get("Authorization") != "SSWS 00abcSSWStoken" || r.Body != "" {
			t.Errorf("request %d: %s %s auth %q", i, r.Method, r.Path, r.Header.Get("Authorization"))
		}
	}
	if q := reqs[1].Query.Get("oauthTokens"); q != "true" {
		t.Errorf("oauthTokens=%q", q)
	}
}

func TestRevokeWithServiceApp(t *testing.T) {
	keys := testkeys.New(t)
	f := &fakeOkta{}
	srv := httptest.NewServer(f.handler())
	defer srv.Close()
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(keyFile, keys.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.OrgURL, cfg.ClientID, cfg.PrivateKeyFile, cfg.KeyID = srv.URL, "0oa1serviceapp", keyFile, "key-1"
	c, err := New(cfg, Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Revoke(context.Background(), login, detector.Alert{}); err != nil {
		t.Fatal(err)
	}
	reqs := f.Requests()
	form, _ := url.ParseQuery(reqs[0].Body)
	if reqs[0].Path != "/oauth2/v1/token" || form.Get("grant_type") != "client_credentials" ||
		form.Get("scope") != "okta.users.read okta.users.manage" {
		t.Fatalf("token request %s %q", reqs[0].Path, reqs[0].Body)
	}
	header, claims, err := testkeys.VerifyJWT(form.Get("client_assertion"), &keys.Key.PublicKey)
	if err != nil || header["kid"] != "key-1" || claims["aud"] != srv.URL+"/oauth2/v1/token" || claims["iss"] != "0oa1serviceapp" {
		t.Fatalf("assertion: %v %v %v", err, header, claims)
	}
	for _, r := range reqs[1:] {
		if r.Header.Get("Authorization") != "Bearer eyJ.okta.token" {
			t.Errorf("%s %s: auth %q", r.Method, r.Path, r.Header.Get("Authorization"))
		}
	}
}

func TestRevokeFailures(t *testing.T) {
	reset := time.Now().Add(20 * time.Second).Unix()
	cases := []struct {
		name  string
		api   func(w http.ResponseWriter, r *http.Request) bool
		retry bool
		want  string
		after bool
	}{
		{name: "rate limited", retry: true, after: true, want: "HTTP 429 E0000047",
			api: func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("X-Rate-Limit-Limit", "600")
				w.Header().Set("X-Rate-Limit-Remaining", "0")
				w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(reset, 10))
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorLink":"E0000047","errorId":"oae1","errorCauses":[]}`)
				return true
			}},
		{name: "invalid token", want: "HTTP 401 E0000011: Invalid token provided",
			api: func(w http.ResponseWriter, r *http.Request) bool {
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorLink":"E0000011","errorId":"oae2","errorCauses":[]}`)
				return true
			}},
		{name: "forbidden", want: "HTTP 403 E0000006",
			api: func(w http.ResponseWriter, r *http.Request) bool {
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprint(w, `{"errorCode":"E0000006","errorSummary":"You do not have permission to perform the requested action","errorLink":"E0000006","errorId":"oae3","errorCauses":[]}`)
				return true
			}},
		{name: "unknown user", want: "HTTP 404 E0000007",
			api: func(w http.ResponseWriter, r *http.Request) bool { return false }},
		{name: "internal error", retry: true, want: "HTTP 500 E0000009",
			api: func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodDelete {
					return false
				}
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprint(w, `{"errorCode":"E0000009","errorSummary":"Internal Server Error","errorLink":"E0000009","errorId":"oae4","errorCauses":[]}`)
				return true
			}},
		{name: "malformed user", want: "malformed answer",
			api: func(w http.ResponseWriter, r *http.Request) bool { fmt.Fprint(w, `[]`); return true }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newSSWS(t, &fakeOkta{api: tc.api})
			user := login
			if tc.name == "unknown user" {
				user = "nobody@example.org"
			}
			retry, err := c.Revoke(context.Background(), user, detector.Alert{})
			if err == nil || retry != tc.retry || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("retry=%v err=%v; want retry=%v, %q", retry, err, tc.retry, tc.want)
			}
			if after, ok := alerts.RetryAfter(err); ok != tc.after || (ok && (after < 10*time.Second || after > 30*time.Second)) {
				t.Errorf("RetryAfter %s %v", after, ok)
			}
			if strings.Contains(err.Error(), "SSWStoken") {
				t.Error("token in error")
			}
		})
	}
}

func TestValidate(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{OrgURL: "example.okta.com"}, "org_url"},
		{Config{OrgURL: "https://x.okta.com"}, "api_token_file: required"},
		{Config{OrgURL: "https://x.okta.com", ClientID: "c"}, "set both"},
		{Config{OrgURL: "https://x.okta.com", ClientID: "c", PrivateKeyFile: "k", APITokenFile: "t"}, "conflicts"},
	} {
		if err := tc.c.Validate(noEnv); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.c, err, tc.want)
		}
	}
	env := func(k string) (string, bool) { return "tok", k == EnvAPIToken }
	if err := (Config{OrgURL: "https://x.okta.com"}).Validate(env); err != nil {
		t.Errorf("token from environment: %v", err)
	}
}

// A login with a "/" cannot be named in Okta's path: atod finds its id with
// a search on profile.login, and takes only an exact match.
func TestRevokeLoginWithSlash(t *testing.T) {
	const slashLogin = `ops/anna"x@example.org`
	f := &fakeOkta{api: func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || r.URL.Path != "/api/v1/users" {
			return false
		}
		if got := r.URL.Query().Get("search"); got != `profile.login eq "ops/anna\"x@example.org"` {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"errorCode":"E0000031","errorSummary":"Invalid search: %s"}`, got)
			return true
		}
		fmt.Fprintf(w, `[{"id":"00uother","profile":{"login":"ops/anna\"x@example.org.evil"}},{"id":%q,"profile":{"login":%q}}]`,
			userID, strings.ToUpper(slashLogin[:1])+slashLogin[1:])
		return true
	}}
	c := newSSWS(t, f)
	if _, err := c.Revoke(context.Background(), slashLogin, detector.Alert{}); err != nil {
		t.Fatal(err)
	}
	reqs := f.Requests()
	if len(reqs) != 2 || reqs[1].Method+" "+reqs[1].Path != "DELETE /api/v1/users/"+userID+"/sessions" {
		t.Fatalf("requests %+v", reqs)
	}

	// No exact match: a permanent error, nothing revoked.
	c = newSSWS(t, &fakeOkta{api: func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/api/v1/users" {
			fmt.Fprint(w, `[]`)
			return true
		}
		return false
	}})
	if retry, err := c.Revoke(context.Background(), slashLogin, detector.Alert{}); err == nil || retry ||
		!strings.Contains(err.Error(), "0 users with this login") {
		t.Fatalf("no match: retry=%v err=%v", retry, err)
	}
}

// A rate limit whose reset lies centuries ahead (a garbled header) waits
// the longest wait, an hour, not the shortest: time.Duration saturates at
// about 292 years, and adding a second to that wrapped round to 1 s.
func TestRateLimitResetFarAhead(t *testing.T) {
	for _, reset := range []int64{time.Now().Add(3 * time.Hour).Unix(), time.Now().Unix() + 300*365*24*3600, math.MaxInt64} {
		c := newSSWS(t, &fakeOkta{api: func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(reset, 10))
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}})
		_, err := c.Revoke(context.Background(), login, detector.Alert{})
		if after, ok := alerts.RetryAfter(err); !ok || after < time.Hour || after > time.Hour+time.Second {
			t.Errorf("reset %d: RetryAfter %s %v, want an hour", reset, after, ok)
		}
	}
}
