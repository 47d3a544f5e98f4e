package splunk

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/internal/apitest"
	"github.com/atod-project/atod/detector"
)

func newClient(t *testing.T, status int, body string, hdr map[string]string) (*Client, *apitest.Recorder) {
	t.Helper()
	rec := &apitest.Recorder{}
	srv := httptest.NewServer(rec.Wrap(func(w http.ResponseWriter, _ *http.Request, _ string) {
		for k, v := range hdr {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	cfg := DefaultConfig()
	cfg.URL, cfg.Index, cfg.Host, cfg.Channel = srv.URL+"/", "security", "atod-1", "FE0ECFAD-13D5-401B-847D-77833BD77131"
	c, err := New(cfg, Options{LookupEnv: func(k string) (string, bool) { return "B5A79AAD-D822-46CC-80D1-819F80D7BFB0", k == EnvToken }})
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

var alert = detector.Alert{ID: "a1", Time: time.Date(2026, 3, 2, 8, 11, 0, 250e6, time.UTC), Rule: "brute_force",
	User: "anna@example.org", IP: "95.24.0.7", Score: 70, Severity: "high", Action: "alert", Reasons: []string{"r"}, Evidence: []string{"e"}}

func TestEventRequest(t *testing.T) {
	c, rec := newClient(t, 200, `{"text":"Success","code":0}`, nil)
	if _, err := c.Notify(context.Background(), alert); err != nil {
		t.Fatal(err)
	}
	r := rec.Requests()[0]
	want := `{"time":1772439060.25,"host":"atod-1","source":"atod","sourcetype":"atod:alert","index":"security","event":{"id":"a1","time":"2026-03-02T08:11:00.25Z","rule":"brute_force","user":"anna@example.org","ip":"95.24.0.7","score":70,"severity":"high","action":"alert","reasons":["r"],"evidence":["e"]}}`
	if r.Method != "POST" || r.Path != "/services/collector/event" || r.Body != want {
		t.Errorf("%s %s\n%s\nwant\n%s", r.Method, r.Path, r.Body, want)
	}
	if r.Header.Get("Authorization") != "Splunk B5A79AAD-D822-46CC-80D1-819F80D7BFB0" ||
		r.Header.Get("X-Splunk-Request-Channel") != "FE0ECFAD-13D5-401B-847D-77833BD77131" {
		t.Errorf("headers %v", r.Header)
	}
}

func TestAnswers(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		hdr    map[string]string
		retry  bool
		want   string
	}{
		{403, `{"text":"Invalid token","code":4}`, nil, false, "HTTP 403 4: Invalid token"},
		{401, `{"text":"Token is required","code":2}`, nil, false, "HTTP 401"},
		{400, `{"text":"Invalid data format","code":6,"invalid-event-number":0}`, nil, false, "Invalid data format"},
		{503, `{"text":"Server is busy","code":9}`, map[string]string{"Retry-After": "5"}, true, "Server is busy"},
		{200, `{"text":"Success"}`, nil, false, "unexpected answer"},
		{200, `<html>`, nil, false, "unexpected answer"},
	} {
		c, _ := newClient(t, tc.status, tc.body, tc.hdr)
		retry, err := c.Notify(context.Background(), alert)
		if err == nil || retry != tc.retry || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%d %s: retry=%v err=%v", tc.status, tc.body, retry, err)
			continue
		}
		if d, ok := alerts.RetryAfter(err); ok != (tc.hdr != nil) || (ok && d != 5*time.Second) {
			t.Errorf("RetryAfter %s %v", d, ok)
		}
		if strings.Contains(err.Error(), "B5A79AAD") {
			t.Error("token in error")
		}
	}
}
