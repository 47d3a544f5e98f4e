package splunk

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atod-project/atod/alerts"
	"go.uber.org/zap"
)

// An acknowledgement slower than the attempt timeout does not make each
// attempt send the alert again: the next attempt asks for the same ack.
func TestAckWaitSpansAttempts(t *testing.T) {
	var (
		posts atomic.Int32
		mu    sync.Mutex
		first time.Time
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/services/collector/event":
			posts.Add(1)
			mu.Lock()
			if first.IsZero() {
				first = time.Now()
			}
			mu.Unlock()
			_, _ = w.Write([]byte(`{"text":"Success","code":0,"ackId":7}`))
		case "/services/collector/ack":
			mu.Lock()
			ok := time.Since(first) > 500*time.Millisecond // the indexer needs 0.5s
			mu.Unlock()
			if ok {
				_, _ = w.Write([]byte(`{"acks":{"7":true}}`))
				return
			}
			_, _ = w.Write([]byte(`{"acks":{"7":false}}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.URL, cfg.Channel = srv.URL, testChannel
	c, err := New(cfg, Options{LookupEnv: func(k string) (string, bool) { return "B5A79AAD-D822-46CC-80D1-819F80D7BFB0", k == EnvToken }})
	if err != nil {
		t.Fatal(err)
	}
	c.ackFirst = 10 * time.Millisecond
	// attempt_timeout scaled down (15s in production) below the indexer's
	// acknowledgement time, ackWait (2 minutes) left as it is.
	r := alerts.NewRetrier(alerts.RetryConfig{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		MaxElapsed: 10 * time.Second, AttemptTimeout: 200 * time.Millisecond, MaxRetryAfter: time.Second}, zap.NewNop())
	res := r.Do(context.Background(), "splunk", func(ctx context.Context) (bool, error) { return c.Notify(ctx, alert) })
	if res.Err != nil {
		t.Fatalf("not delivered: %v", res.Err)
	}
	if n := posts.Load(); n != 1 {
		t.Errorf("the alert was posted to the collector %d times (%d attempts); want once: the indexer acknowledges it within ackWait (2m), but each attempt_timeout resent it", n, res.Attempts)
	}
}
