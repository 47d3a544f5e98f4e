package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/internal/apitest"
	"github.com/atod-project/atod/detector"
)

const secretValue = "0123456789abcdef-shared"

var fixed = time.Unix(1772440000, 0)

func newClient(t *testing.T, h func(w http.ResponseWriter)) (*Client, *apitest.Recorder) {
	t.Helper()
	rec := &apitest.Recorder{}
	srv := httptest.NewServer(rec.Wrap(func(w http.ResponseWriter, _ *http.Request, _ string) { h(w) }))
	t.Cleanup(srv.Close)
	c, err := New(Config{URL: srv.URL + "/hooks/atod", SecretEnv: "HOOK_SECRET", AllowHTTP: true}, Options{
		LookupEnv: func(k string) (string, bool) { return secretValue, k == "HOOK_SECRET" },
		Now:       func() time.Time { return fixed },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

var alert = detector.Alert{ID: "a1", Time: time.Date(2026, 3, 2, 8, 11, 0, 0, time.UTC), Rule: "compromise_after_attack",
	User: "anna@example.org", Score: 90, Severity: "critical", Action: detector.ActionRevoke,
	Reasons: []string{"x"}, Evidence: []string{"e1"}}

func TestSignedRequests(t *testing.T) {
	c, rec := newClient(t, func(w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted) })
	if _, err := c.Notify(context.Background(), alert); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Revoke(context.Background(), "anna@example.org", alert); err != nil {
		t.Fatal(err)
	}
	reqs := rec.Requests()
	wantBodies := []string{
		`{"id":"a1","time":"2026-03-02T08:11:00Z","rule":"compromise_after_attack","user":"anna@example.org","score":90,"severity":"critical","action":"revoke_sessions","reasons":["x"],"evidence":["e1"]}`,
		`{"action":"revoke_sessions","user":"anna@example.org","alert":{"id":"a1","time":"2026-03-02T08:11:00Z","rule":"compromise_after_attack","user":"anna@example.org","score":90,"severity":"critical","action":"revoke_sessions","reasons":["x"],"evidence":["e1"]}}`,
	}
	for i, r := range reqs {
		if r.Method != "POST" || r.Path != "/hooks/atod" || r.Body != wantBodies[i] {
			t.Errorf("request %d: %s %s %s", i, r.Method, r.Path, r.Body)
		}
		// Recompute the signature independently of Sign.
		m := hmac.New(sha256.New, []byte(secretValue))
		m.Write([]byte("1772440000." + r.Body))
		if got := r.Header.Get(HeaderSignature); got != "v1="+hex.EncodeToString(m.Sum(nil)) {
			t.Errorf("request %d: signature %q", i, got)
		}
		if r.Header.Get(HeaderTimestamp) != "1772440000" || r.Header.Get(HeaderDelivery) != "a1" ||
			r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %d: headers %v", i, r.Header)
		}
		if err := Verify([]byte(secretValue), r.Header, []byte(r.Body), fixed.Add(time.Minute), 5*time.Minute); err != nil {
			t.Errorf("request %d: Verify: %v", i, err)
		}
	}
	if reqs[0].Header.Get(HeaderEvent) != "alert" || reqs[1].Header.Get(HeaderEvent) != "revoke" {
		t.Error("event headers")
	}
	// A receiver rejects a replay, a changed body and a wrong secret.
	r := reqs[0]
	for name, err := range map[string]error{
		"replay":       Verify([]byte(secretValue), r.Header, []byte(r.Body), fixed.Add(time.Hour), 5*time.Minute),
		"body":         Verify([]byte(secretValue), r.Header, []byte(r.Body+" "), fixed, 5*time.Minute),
		"wrong secret": Verify([]byte("another-secret-value"), r.Header, []byte(r.Body), fixed, 5*time.Minute),
	} {
		if err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if !errors.Is(Verify([]byte(secretValue), r.Header, []byte(r.Body), fixed.Add(time.Hour), time.Minute), ErrStale) {
		t.Error("stale not ErrStale")
	}
}

func TestAnswers(t *testing.T) {
	for _, tc := range []struct {
		status int
		retry  bool
	}{{200, false}, {204, false}, {400, false}, {401, false}, {403, false}, {404, false}, {408, true}, {429, true},
		{500, true}, {502, true}, {503, true}} {
		c, _ := newClient(t, func(w http.ResponseWriter) {
			if tc.status == 429 {
				w.Header().Set("Retry-After", "Mon, 02 Mar 2026 08:00:00 GMT")
			}
			w.WriteHeader(tc.status)
		})
		retry, err := c.Notify(context.Background(), alert)
		if (err == nil) != (tc.status < 300) || retry != tc.retry {
			t.Errorf("HTTP %d: retry=%v err=%v", tc.status, retry, err)
		}
	}
}

func TestUnreachableIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := New(Config{URL: url, SecretEnv: "S", AllowHTTP: true}, Options{LookupEnv: func(string) (string, bool) { return secretValue, true }})
	if err != nil {
		t.Fatal(err)
	}
	if retry, err := c.Notify(context.Background(), alert); err == nil || !retry {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	var _ alerts.Notifier = c
}

func TestValidate(t *testing.T) {
	env := func(string) (string, bool) { return "", false }
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{URL: "http://soc.example.org/x", SecretFile: "/s"}, "plain http"},
		{Config{URL: "https://soc.example.org/x", SecretEnv: "NOPE"}, "secret_file: required"},
		{Config{URL: "soc", SecretFile: "/s"}, "url:"},
		{Config{URL: "soc/s3cr3t", SecretFile: "/s"}, "url:"},
		{Config{URL: "http://soc.example.org/hook/s3cr3t", SecretFile: "/s"}, "http://soc.example.org/…"},
		{Config{URL: "ftp://soc.example.org/s3cr3t", SecretFile: "/s"}, "not an http(s) URL"},
	} {
		err := tc.c.Validate(env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v", tc.c, err)
		}
		// A webhook's URL may be its credential (chat services' are).
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%+v: the error shows the URL's path: %v", tc.c, err)
		}
	}
}

// A dry run writes Describe into the audit log: the URL's path, which may
// be the webhook's credential, stays out of it.
func TestDescribeHidesThePath(t *testing.T) {
	c, err := New(Config{URL: "https://hooks.example.org/services/T0/B0/s3cr3t", SecretEnv: "S"},
		Options{LookupEnv: func(string) (string, bool) { return secretValue, true }})
	if err != nil {
		t.Fatal(err)
	}
	d := c.Describe("anna@example.org")
	if strings.Contains(d, "s3cr3t") || !strings.Contains(d, "https://hooks.example.org/…") || !strings.Contains(d, "anna@example.org") {
		t.Errorf("Describe = %s", d)
	}
}
