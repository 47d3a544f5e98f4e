package oauth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func countingEndpoint(t *testing.T, expiresIn int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":%d,"access_token":"tok-%d"}`, expiresIn, i)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func form(time.Time) (url.Values, error) {
	return url.Values{"grant_type": {"client_credentials"}}, nil
}

// A token whose lifetime is not longer than the renewal margin (60s) is
// never used from the cache: every call fetches a new one, so a burst of
// revocations costs one token request each, the opposite of what the
// cache is for, and a throttling token endpoint then holds up every call.
func TestShortLivedTokenIsCached(t *testing.T) {
	srv, n := countingEndpoint(t, 45)
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	s := &Source{URL: srv.URL, Form: form, Client: srv.Client(), Now: func() time.Time { return now }}
	for range 3 {
		if _, _, err := s.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := n.Load(); got != 1 {
		t.Errorf("%d token requests for three calls within one second of a 45s token, want 1", got)
	}
}

// Concurrent callers share one token request, and the token is renewed
// (not kept) once within the margin of its expiry.
func TestSourceConcurrentAndRenewal(t *testing.T) {
	srv, n := countingEndpoint(t, 3600)
	var mu sync.Mutex
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := &Source{URL: srv.URL, Form: form, Client: srv.Client(), Now: clock}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tok, _, err := s.Token(context.Background()); err != nil || tok != "tok-1" {
				t.Errorf("token %q err %v", tok, err)
			}
		}()
	}
	wg.Wait()
	if got := n.Load(); got != 1 {
		t.Fatalf("%d token requests for 16 concurrent callers, want 1", got)
	}
	mu.Lock()
	now = now.Add(3600*time.Second - expiryMargin + time.Second)
	mu.Unlock()
	if tok, _, err := s.Token(context.Background()); err != nil || tok != "tok-2" {
		t.Fatalf("near expiry: token %q err %v, want a new one", tok, err)
	}
}
