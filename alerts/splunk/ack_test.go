package splunk

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

const testChannel = "FE0ECFAD-13D5-401B-847D-77833BD77131"

// fakeAckHEC is a collector with indexer acknowledgement: it answers each
// event with ackId 7 and acknowledges it after ackAfter polls (never, when
// negative).
func fakeAckHEC(t *testing.T, ackAfter int32, polls *atomic.Int32) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("X-Splunk-Request-Channel") != testChannel {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"text":"Data channel is missing","code":10}`))
			return
		}
		switch r.URL.Path {
		case "/services/collector/event":
			_, _ = w.Write([]byte(`{"text":"Success","code":0,"ackId":7}`))
		case "/services/collector/ack":
			body, _ := io.ReadAll(r.Body)
			if string(body) != `{"acks":[7]}` {
				t.Errorf("ack request body %q", body)
			}
			n := polls.Add(1)
			if ackAfter >= 0 && n >= ackAfter {
				_, _ = w.Write([]byte(`{"acks":{"7":true}}`))
				return
			}
			_, _ = w.Write([]byte(`{"acks":{"7":false}}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	cfg := DefaultConfig()
	cfg.URL, cfg.Channel = srv.URL, testChannel
	c, err := New(cfg, Options{LookupEnv: func(k string) (string, bool) { return "B5A79AAD-D822-46CC-80D1-819F80D7BFB0", k == EnvToken }})
	if err != nil {
		t.Fatal(err)
	}
	c.ackFirst = time.Millisecond
	return c
}

// With indexer acknowledgement, an alert is delivered only once the
// indexer acknowledges it: {"code":0} alone says only that it was well
// formed.
func TestIndexerAcknowledgement(t *testing.T) {
	var polls atomic.Int32
	c := fakeAckHEC(t, 3, &polls)
	if _, err := c.Notify(context.Background(), alert); err != nil {
		t.Fatal(err)
	}
	if polls.Load() != 3 {
		t.Errorf("acknowledgement asked %d times, want 3 (until true)", polls.Load())
	}
}

// An alert the indexer never acknowledges goes back to the queue.
func TestIndexerNeverAcknowledges(t *testing.T) {
	var polls atomic.Int32
	c := fakeAckHEC(t, -1, &polls)
	c.ackWait = 300 * time.Millisecond
	retry, err := c.Notify(context.Background(), alert)
	if err == nil || !retry {
		t.Fatalf("unacknowledged alert: retry=%v err=%v; want a retryable error", retry, err)
	}
	if polls.Load() == 0 {
		t.Error("acknowledgement never asked for")
	}
}
