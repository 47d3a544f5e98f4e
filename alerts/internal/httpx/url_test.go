package httpx

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestShowURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.example.org/services/T0/B0/s3cr3t": "https://hooks.example.org/…",
		"https://soc.example.org/hook?token=s3cr3t":       "https://soc.example.org/…",
		"https://user:s3cr3t@soc.example.org":             "https://soc.example.org",
		"https://soc.example.org/":                        "https://soc.example.org",
		"http://[::1]:8080/doveadm/v1#s3cr3t":             "http://[::1]:8080/…",
		"soc.example.org/s3cr3t":                          "(a URL that does not parse)",
		"https://soc.example.org/%zz/s3cr3t":              "(a URL that does not parse)",
	} {
		if got := ShowURL(in); got != want {
			t.Errorf("ShowURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// net/http quotes a request's whole URL in a transport error, and errors
// reach log lines and audit records: Do shows scheme and host only, and
// keeps what it wraps for the retry decision.
func TestDoHidesTheURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // refused from now on
	for _, target := range []string{addr + "/services/T0/B0/s3cr3t", "gopher://soc.example.org/s3cr3t"} {
		req, err := http.NewRequest(http.MethodPost, target, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = Do(http.DefaultClient, req)
		if err == nil {
			t.Fatalf("%s: no error", target)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("the error quotes the URL's path: %v", err)
		}
		var ue *url.Error
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), ShowURL(target)) {
			t.Errorf("%v: want a *url.Error that names %s", err, ShowURL(target))
		}
	}
	// What decides a retry is still there to be found.
	req, _ := http.NewRequest(http.MethodPost, "gopher://soc.example.org/s3cr3t", nil)
	if _, _, err := Do(http.DefaultClient, req); TransportRetryable(err) {
		t.Errorf("an unsupported scheme became retryable: %v", err)
	}
}
