package okta

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/internal/apitest"
	"github.com/atod-project/atod/alerts/internal/httpx"
	"github.com/atod-project/atod/alerts/internal/testkeys"
	"github.com/atod-project/atod/detector"
)

// fuzzAnswer is what the fake Okta answers to one kind of request.
type fuzzAnswer struct {
	status            int
	body              []byte
	reset, retryAfter string
}

// fuzzOkta is one httptest server per fuzz worker; each input sets the
// answers, and the DELETEs it saw are recorded.
type fuzzOkta struct {
	srv      *httptest.Server
	tokFile  string
	get, del atomic.Pointer[fuzzAnswer]
	mu       sync.Mutex
	gets     int
	deletes  []string // escaped paths
}

func newFuzzOkta(f *testing.F) *fuzzOkta {
	o := &fuzzOkta{}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := o.get.Load()
		o.mu.Lock()
		if r.Method == http.MethodDelete {
			a = o.del.Load()
			o.deletes = append(o.deletes, r.URL.EscapedPath())
		} else {
			o.gets++
		}
		o.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if a.reset != "" {
			w.Header().Set("X-Rate-Limit-Reset", a.reset)
		}
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		w.WriteHeader(a.status)
		_, _ = w.Write(a.body)
	}))
	f.Cleanup(o.srv.Close)
	o.tokFile = filepath.Join(f.TempDir(), "okta-token")
	if err := os.WriteFile(o.tokFile, []byte("00abcSSWStoken\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	return o
}

func (o *fuzzOkta) client(t *testing.T) *Client {
	t.Helper()
	cfg := DefaultConfig()
	cfg.OrgURL, cfg.APITokenFile = o.srv.URL, o.tokFile
	c, err := New(cfg, Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (o *fuzzOkta) reset() {
	o.mu.Lock()
	o.gets, o.deletes = 0, nil
	o.mu.Unlock()
}

func (o *fuzzOkta) seen() (int, []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.gets, slices.Clone(o.deletes)
}

// fuzzStatus maps any int onto 200..599 (1xx are interim answers the
// client never sees as final).
func fuzzStatus(n int) int { return 200 + int(uint(n)%400) }

// fuzzHeader keeps what an HTTP header value can carry.
func fuzzHeader(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, s))
}

// received is the body the client gets for status: none for 204 and 304.
func received(status int, body []byte) []byte {
	if status == http.StatusNoContent || status == http.StatusNotModified {
		return nil
	}
	return body
}

const fuzzSlashLogin = `ops/anna"x@example.org`

// revokeWithin calls Revoke and fails t if it does not return in time.
func revokeWithin(t *testing.T, c *Client, user string) (bool, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	retry, err := c.Revoke(ctx, user, detector.Alert{ID: "a1"})
	if ctx.Err() != nil {
		t.Fatalf("Revoke hung until the deadline: retry=%v err=%v", retry, err)
	}
	return retry, err
}

// checkFuzzErr wants an error without the token, of bounded length,
// and valid UTF-8 whenever the answer was (httpx.FuzzSnippet's promise).
func checkFuzzErr(t *testing.T, err error, body []byte) {
	t.Helper()
	msg := err.Error()
	if strings.Contains(msg, "SSWStoken") {
		t.Fatalf("token in error %q", msg)
	}
	if len(msg) > 2000 || (utf8.Valid(body) && !utf8.ValidString(msg)) {
		t.Fatalf("error of %d bytes (valid UTF-8 %v): %.200q", len(msg), utf8.ValidString(msg), msg)
	}
}

// FuzzUserAnswer feeds arbitrary answers (status and body) to the
// user lookup, both GET /api/v1/users/{login} and, for a login with a "/",
// the search GET /api/v1/users?search=...; the DELETE that follows always
// succeeds. A revocation may only be reported done, and a DELETE only
// sent, when the lookup answered 2xx with JSON of the right shape (an
// object for the GET, an array for the search) and the id used is a
// non-empty string value of that answer; otherwise the error is bounded,
// keeps the status and retries only what httpx.Retryable says.
func FuzzUserAnswer(f *testing.F) {
	for _, s := range []struct {
		status int
		body   string
		slash  bool
	}{
		{200, `{"id":"00ub0oNGTSWTBKOLGLNR","status":"ACTIVE","profile":{"login":"anna.koch@example.org"}}`, false},
		{200, `{"id":"","profile":{"login":"anna.koch@example.org"}}`, false},
		{200, `{"id":123}`, false},
		{200, `{"ID":"x"}`, false},
		{200, `{"id":"a","id":"b"}`, false},
		{200, `null`, false},
		{200, `[{"id":"x"}]`, false},
		{200, `{"id":"../../x"}`, false},
		{200, `<html>Login</html>`, false},
		{204, ``, false},
		{203, `{"id":"00u1"}`, false},
		{404, `{"errorCode":"E0000007","errorSummary":"Not found: Resource not found: x (User)"}`, false},
		{429, `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests."}`, false},
		{500, strings.Repeat("é", 400), false},
		{200, `[{"id":"00u1","profile":{"login":"OPS/ANNA\"X@example.org"}}]`, true},
		{200, `[{"id":"00u1","profile":{"login":"ops/anna\"x@example.org"}},{"id":"00u2","profile":{"login":"ops/anna\"x@example.org"}}]`, true},
		{200, `[{"id":"00u1","profile":{"login":"ops/anna\"x@example.org.evil"}}]`, true},
		{200, `{"id":"00u1","profile":{"login":"ops/anna\"x@example.org"}}`, true},
		{200, `[null,{"id":"00u1","profile":{"login":"ops/anna\"x@example.org"}}]`, true},
		{200, `null`, true},
		{200, `[]`, true},
	} {
		f.Add(s.status, []byte(s.body), s.slash)
	}
	o := newFuzzOkta(f)
	f.Fuzz(func(t *testing.T, status int, body []byte, slash bool) {
		status = fuzzStatus(status)
		o.get.Store(&fuzzAnswer{status: status, body: body})
		o.del.Store(&fuzzAnswer{status: http.StatusNoContent})
		o.reset()
		user := login
		if slash {
			user = fuzzSlashLogin
		}
		retry, err := revokeWithin(t, o.client(t), user)
		gets, deletes := o.seen()
		got := received(status, body)
		if gets != 1 {
			t.Fatalf("%d lookups, want 1", gets)
		}
		if err != nil {
			checkFuzzErr(t, err, got)
			if len(deletes) != 0 {
				t.Fatalf("error %v, but DELETE %v sent", err, deletes)
			}
			var se *httpx.StatusError
			switch {
			case status >= 300:
				if !errors.As(err, &se) || se.Status != status || retry != httpx.Retryable(status) {
					t.Fatalf("HTTP %d: retry=%v err=%#v", status, retry, err)
				}
			case retry:
				t.Fatalf("HTTP %d with a malformed answer is retried: %v", status, err)
			}
			return
		}
		// Success: the lookup must have been a 2xx with a JSON answer of
		// the right shape, and the id one of its string values.
		if status >= 300 {
			t.Fatalf("HTTP %d counted as success", status)
		}
		if !json.Valid(got) {
			t.Fatalf("revocation done after a lookup answer that is not JSON: %q", got)
		}
		trimmed := strings.TrimLeft(string(got), " \t\r\n")
		if wantOpen := map[bool]string{false: "{", true: "["}[slash]; !strings.HasPrefix(trimmed, wantOpen) {
			t.Fatalf("revocation done after an answer that is not a JSON %s: %q", wantOpen, got)
		}
		if len(deletes) != 1 {
			t.Fatalf("success with DELETEs %v", deletes)
		}
		esc := strings.TrimSuffix(strings.TrimPrefix(deletes[0], "/api/v1/users/"), "/sessions")
		id, uerr := url.PathUnescape(esc)
		if uerr != nil || id == "" || strings.Contains(esc, "/") {
			t.Fatalf("DELETE %q: id %q %v", deletes[0], id, uerr)
		}
		strs, _, jerr := apitest.JSONValues(got)
		if jerr != nil || !slices.Contains(strs, id) {
			t.Fatalf("id %q is not a value of the answer %q", id, got)
		}
	})
}

// FuzzRevokeAnswer feeds arbitrary answers (status, body,
// X-Rate-Limit-Reset, Retry-After) to DELETE .../sessions after a good
// lookup, with the id looked up now or remembered from an earlier
// revocation. Only a 2xx is a revocation done; anything else is an error
// that keeps the status, retries only what httpx.Retryable says, and for
// a 429 waits at least a second when Okta's reset time is readable, never
// a negative time.
func FuzzRevokeAnswer(f *testing.F) {
	reset := strconv.FormatInt(time.Now().Add(20*time.Second).Unix(), 10)
	for _, s := range []struct {
		status            int
		body              string
		reset, retryAfter string
		remembered        bool
	}{
		{204, ``, "", "", false},
		{200, `{}`, "", "", true},
		{200, `<html>Access denied</html>`, "", "", false},
		{404, `{"errorCode":"E0000007","errorSummary":"Not found: Resource not found: x (User)"}`, "", "", true},
		{404, `{"errorCode":"E0000007","errorSummary":"Not found"}`, "", "", false},
		{429, `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests."}`, reset, "", false},
		{429, ``, "9223372036854775807", "", false},
		{429, ``, "-9223372036854775808", "", true},
		{429, ``, "1", "", false},
		{429, ``, "99999999999", "", false},
		{429, ``, "12abc", "Mon, 02 Mar 2099 08:00:00 GMT", false},
		{503, `{"errorCode":"E0000009"}`, "", "30", false},
		{401, `{"errorCode":"E0000011","errorSummary":"Invalid token provided"}`, "", "", false},
		{301, ``, "", "", false},
		{400, strings.Repeat(`{"errorCode":"`, 100), "", "", false},
	} {
		f.Add(s.status, []byte(s.body), s.reset, s.retryAfter, s.remembered)
	}
	o := newFuzzOkta(f)
	good := []byte(`{"id":"` + userID + `","status":"ACTIVE","profile":{"login":"` + login + `"}}`)
	f.Fuzz(func(t *testing.T, status int, body []byte, reset, retryAfter string, remembered bool) {
		status = fuzzStatus(status)
		reset, retryAfter = fuzzHeader(reset), fuzzHeader(retryAfter)
		o.get.Store(&fuzzAnswer{status: http.StatusOK, body: good})
		o.del.Store(&fuzzAnswer{status: http.StatusNoContent})
		c := o.client(t)
		if remembered {
			if _, err := revokeWithin(t, c, login); err != nil {
				t.Fatal(err)
			}
		}
		o.del.Store(&fuzzAnswer{status: status, body: body, reset: reset, retryAfter: retryAfter})
		o.reset()
		retry, err := revokeWithin(t, c, login)
		_, deletes := o.seen()
		for _, d := range deletes {
			if d != "/api/v1/users/"+userID+"/sessions" {
				t.Fatalf("DELETE %s", d)
			}
		}
		if status < 300 {
			if err != nil || retry {
				t.Fatalf("HTTP %d: retry=%v err=%v", status, retry, err)
			}
			return
		}
		if err == nil {
			t.Fatalf("HTTP %d %q counted as a revocation done", status, body)
		}
		checkFuzzErr(t, err, body)
		var se *httpx.StatusError
		if !errors.As(err, &se) || se.Status != status || retry != httpx.Retryable(status) {
			t.Fatalf("HTTP %d: retry=%v err=%#v", status, retry, err)
		}
		if se.After < 0 {
			t.Fatalf("HTTP %d: negative wait %s", status, se.After)
		}
		if _, perr := strconv.ParseInt(reset, 10, 64); status == http.StatusTooManyRequests && perr == nil {
			if after, ok := alerts.RetryAfter(err); !ok || after < time.Second {
				t.Fatalf("429 with X-Rate-Limit-Reset %q (Retry-After %q): wait %s %v", reset, retryAfter, after, ok)
			}
		}
	})
}

// FuzzPrivateKeyFile feeds arbitrary bytes as private_key_file's
// content into New. Garbage is an error naming private_key_file and the
// file; a key accepted must sign the client assertion.
func FuzzPrivateKeyFile(f *testing.F) {
	keys := testkeys.New(f)
	p1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(keys.Key)})
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	ec8, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		f.Fatal(err)
	}
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ec8})
	for _, b := range [][]byte{
		keys.KeyPEM, p1, ecPEM, keys.CertPEM,
		append(slices.Clone(keys.CertPEM), keys.KeyPEM...),
		keys.KeyPEM[:len(keys.KeyPEM)/2],
		[]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"),
		[]byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"),
		[]byte("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"),
		[]byte("not a key"), nil,
	} {
		f.Add(b)
	}
	srv := httptest.NewServer(http.NotFoundHandler()) // never called: New does not connect
	f.Cleanup(srv.Close)
	keyFile := filepath.Join(f.TempDir(), "okta-app.pem")
	f.Fuzz(func(t *testing.T, raw []byte) {
		if err := os.WriteFile(keyFile, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := DefaultConfig()
		cfg.OrgURL, cfg.ClientID, cfg.PrivateKeyFile = srv.URL, "0oa1serviceapp", keyFile
		c, err := New(cfg, Options{LookupEnv: func(string) (string, bool) { return "", false }})
		if err != nil {
			if c != nil {
				t.Fatalf("client with error %v", err)
			}
			if msg := err.Error(); !strings.Contains(msg, "private_key_file") || !strings.Contains(msg, keyFile) {
				t.Fatalf("error %q does not name private_key_file and the file", msg)
			}
			return
		}
		if !strings.Contains(string(raw), "-----BEGIN") {
			t.Fatalf("key accepted from %q", raw)
		}
		if c.tokens == nil {
			t.Fatal("no token source")
		}
		form, err := c.tokens.Form(time.Now())
		if err != nil || strings.Count(form.Get("client_assertion"), ".") != 2 {
			t.Fatalf("accepted key does not sign: %v %q", err, form.Get("client_assertion"))
		}
	})
}
