// Package httpx holds what every HTTP integration of alerts does the same
// way: sending a request with a bounded answer, deciding from the status
// whether a failure is worth retrying, and reading Retry-After.
package httpx

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/atod-project/atod/ingest/loopback"
)

// MaxBody bounds how much of an answer is read: providers' answers are
// small, and a misbehaving endpoint must not fill memory.
const MaxBody = 1 << 20

// StatusError is an answer other than success. It carries what the retry
// stage needs (Retry, RetryAfter) and what a person needs to fix a
// rejected request (Status, Code, Message).
type StatusError struct {
	Op      string // what was being done, e.g. "revoking sessions of anna@example.org"
	Status  int
	Code    string // the provider's error code, when its answer has one
	Message string // the provider's explanation, or the start of the body
	After   time.Duration
}

func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: HTTP %d", e.Op, e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.After > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.After)
	}
	return b.String()
}

// RetryAfter implements the interface alerts.RetryAfter looks for.
func (e *StatusError) RetryAfter() time.Duration { return e.After }

// Retryable reports whether a request that got status may succeed later
// unchanged: throttling, timeouts and server trouble. 400, 401, 403 and
// 404 say the request or its credentials are wrong, and repeating it
// would only hide that.
func Retryable(status int) bool {
	switch {
	case status == http.StatusTooManyRequests, status == http.StatusRequestTimeout:
		return true
	case status >= 500 && status != http.StatusNotImplemented && status != http.StatusHTTPVersionNotSupported:
		return true
	}
	return false
}

// ParseRetryAfter reads a Retry-After value: delay seconds or an HTTP date
// (RFC 9110). An absent or unreadable value gives 0.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 && s < 1e7 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// Do sends req and returns the status, headers and body of the answer. A
// transport failure (refused, reset, timed out) returns retry true: the
// request may not have arrived. Only the body's first MaxBody bytes are
// read; the connection is reused. A transport error shows the URL as
// ShowURL does.
func Do(c *http.Client, req *http.Request) (*http.Response, []byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, hideURL(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return resp, nil, fmt.Errorf("reading answer: %w", err)
	}
	return resp, body, nil
}

// TransportRetryable reports whether a failure to get any answer is worth
// retrying. Network trouble, timeouts and cancellation are (on cancel the
// job goes back to the queue for the next run); a certificate that does not
// verify is not, since it will not verify on the next attempt either.
func TransportRetryable(err error) bool {
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalid):
		return false
	case strings.Contains(err.Error(), "unsupported protocol scheme"):
		return false
	}
	return true
}

// Snippet shortens a body for an error message: providers' error pages
// can be long, and a log line must stay readable.
func Snippet(body []byte) string { return Clip(string(body)) }

// Clip is Snippet of a string: what a provider's answer says goes into
// errors and log lines, and a code or message of a megabyte must not.
func Clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxSnippet {
		cut := maxSnippet
		for i := 0; i < utf8.UTFMax-1 && !utf8.RuneStart(s[cut]); i++ {
			cut-- // not inside a character: a log line must stay valid UTF-8
		}
		s = s[:cut] + "…"
	}
	return s
}

// CheckPlainHTTP refuses a plain http URL to another host without allow:
// the credential that goes with each request (an API key, a token, a
// password) would cross the network in clear. http to the loopback (a
// service on the same machine, the common doveadm setup) is accepted.
func CheckPlainHTTP(u *url.URL, allow bool) error {
	if u.Scheme != "http" || allow || loopback.Host(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("%q would send the credential in clear to another host; use https, or set allow_http", u.Redacted())
}

// ParseServiceURL parses the URL of a service atod authenticates to with
// a credential of its own (a key, a token, a password from a *_file key or
// the environment). Errors never show the URL whole: a user name and
// password written into it are refused, since atod would not use them and
// they would reach error messages and dry-run records.
func ParseServiceURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("%s is not an http(s) URL", ShowURL(raw))
	}
	if u.User != nil {
		return nil, errors.New("holds a user name or password (not shown); atod sends the credential of its *_file key or environment variable instead")
	}
	return u, nil
}

// RequireHTTPS is CheckPlainHTTP for the cloud providers, which have no
// allow_http: plain http only to the loopback (a test server).
func RequireHTTPS(u *url.URL) error {
	if u.Scheme != "http" || loopback.Host(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("%q would send the credential in clear to another host; use https", u.Redacted())
}

// maxSnippet is how many bytes of a body Snippet keeps.
const maxSnippet = 300

// NewClient returns an HTTP client for one integration. Timeouts per
// attempt come from the retry stage's context; this bounds only the
// connection set-up, so that a dead host fails fast.
func NewClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSHandshakeTimeout = 10 * time.Second
	tr.ResponseHeaderTimeout = 0
	tr.MaxIdleConnsPerHost = 16
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse // a revocation API does not redirect; following one would resend credentials
	}}
}

// ErrorParser extracts a provider's error code and message from the body
// of a failed answer; ok false falls back to the body's start.
type ErrorParser func(body []byte) (code, message string, ok bool)

// Send sends req and turns anything but a 2xx answer into a *StatusError,
// with retry telling the retry stage whether to try again. op says what
// was being done, for the error message.
func Send(c *http.Client, req *http.Request, op string, parse ErrorParser) (resp *http.Response, body []byte, retry bool, err error) {
	resp, body, err = Do(c, req)
	if err != nil {
		return nil, nil, TransportRetryable(err), fmt.Errorf("%s: %w", op, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, body, false, nil
	}
	se := &StatusError{Op: op, Status: resp.StatusCode, After: ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	if code, msg, ok := parseOrNot(parse, body); ok {
		se.Code, se.Message = Clip(code), Clip(msg)
	} else {
		se.Message = Snippet(body)
	}
	return resp, body, Retryable(resp.StatusCode), se
}

func parseOrNot(parse ErrorParser, body []byte) (string, string, bool) {
	if parse == nil || len(body) == 0 {
		return "", "", false
	}
	return parse(body)
}

// ShowURL is a URL as errors, log lines and dry runs show it: scheme and
// host, the rest elided. Webhook URLs often carry their credential in the
// path or the query (chat services' incoming webhooks do), and a log line
// travels further than the config file. The operation beside it says what
// was asked.
func ShowURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(a URL that does not parse)"
	}
	s := u.Scheme + "://" + u.Host
	if strings.Trim(u.EscapedPath(), "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		s += "/…"
	}
	return s
}

// hideURL replaces the URL in a transport error (net/http quotes it whole)
// with ShowURL's; the error it wraps is kept for errors.As.
func hideURL(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	return &url.Error{Op: ue.Op, URL: ShowURL(ue.URL), Err: ue.Err}
}
