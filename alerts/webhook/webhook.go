// Package webhook posts alerts as JSON to an HTTPS endpoint, as a SOC sink
// or as a generic revocation hook for systems atod has no package for.
// Each request is signed so that the receiver can check it came from atod
// and is fresh: X-Atod-Signature carries "v1=" and the hex HMAC-SHA256,
// under a shared secret, of the X-Atod-Timestamp value (Unix seconds), a
// dot, and the exact body. A receiver recomputes it, compares in constant
// time, and rejects timestamps older than a few minutes; Verify does that.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/internal/httpx"
	"github.com/atod-project/atod/alerts/internal/secret"
	"github.com/atod-project/atod/detector"
)

// Headers of each request.
const (
	HeaderTimestamp = "X-Atod-Timestamp"
	HeaderSignature = "X-Atod-Signature" // v1: timestamp and body
	// HeaderSignatureV2 covers the event and delivery id as well; see SignV2.
	HeaderSignatureV2 = "X-Atod-Signature-V2"
	HeaderEvent       = "X-Atod-Event"    // "alert" or "revoke"
	HeaderDelivery    = "X-Atod-Delivery" // the alert id: receivers drop repeats with it
)

// Config is sinks.webhook or hooks.webhook.
type Config struct {
	URL string `yaml:"url"`
	// SecretFile holds the signing secret; the environment variable named
	// by SecretEnv (default given by the caller) may carry it instead.
	SecretFile string `yaml:"secret_file"`
	SecretEnv  string `yaml:"secret_env"`
	// AllowHTTP permits a plain http URL, for a receiver on the loopback.
	AllowHTTP bool `yaml:"allow_http"`
}

func (c Config) secretRef() secret.Ref {
	return secret.Ref{Key: "secret_file", Path: c.SecretFile, Env: c.SecretEnv}
}

// Validate checks the config without reading the secret; messages name
// keys relative to the webhook's section.
func (c Config) Validate(lookupEnv func(string) (string, bool)) error {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	var errs []error
	u, err := url.Parse(c.URL)
	switch {
	case err != nil || u.Host == "":
		errs = append(errs, errors.New("url: is not a URL with a host (it is not shown: such URLs may hold a credential)"))
	case u.Scheme == "http" && !c.AllowHTTP:
		errs = append(errs, fmt.Errorf("url: %s is plain http; use https or set allow_http", httpx.ShowURL(c.URL)))
	case u.Scheme != "https" && u.Scheme != "http":
		errs = append(errs, fmt.Errorf("url: %s is not an http(s) URL", httpx.ShowURL(c.URL)))
	}
	switch {
	case c.SecretEnv != "" && !envName(c.SecretEnv, false):
		errs = append(errs, errors.New("secret_env: is not an environment variable's name (not shown: it may be the secret itself)"))
	case secret.Present(c.secretRef(), lookupEnv):
	case envName(c.SecretEnv, true):
		errs = append(errs, fmt.Errorf("secret_file: required (or the environment variable %s)", c.SecretEnv))
	default:
		errs = append(errs, errors.New("secret_file: required (or the environment variable secret_env names)"))
	}
	return errors.Join(errs...)
}

// envName reports whether s is an environment variable's name
// ([A-Za-z_][A-Za-z0-9_]*), in capitals if upper. A secret pasted into
// secret_env must not reach an error message: only a name in capitals, as
// variables are written and secrets are not, is shown.
func envName(s string, upper bool) bool {
	if s == "" || len(s) > 128 || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || !upper && c >= 'a' && c <= 'z'
		if !ok {
			return false
		}
	}
	return true
}

// Options are what the caller provides besides the config.
type Options struct {
	HTTPClient *http.Client                // nil: one of its own
	LookupEnv  func(string) (string, bool) // nil: os.LookupEnv
	Now        func() time.Time            // nil: time.Now
}

// Client posts to one URL. It is safe for concurrent use.
type Client struct {
	url    string
	secret []byte
	http   *http.Client
	now    func() time.Time
}

var (
	_ alerts.Notifier  = (*Client)(nil)
	_ alerts.Revoker   = (*Client)(nil)
	_ alerts.Describer = (*Client)(nil)
)

// New reads the secret and returns a client.
func New(cfg Config, o Options) (*Client, error) {
	if err := cfg.Validate(o.LookupEnv); err != nil {
		return nil, err
	}
	sec, err := secret.Load(cfg.secretRef(), o.LookupEnv)
	if err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(sec) < 16 {
		return nil, errors.New("secret_file: the secret must have at least 16 characters")
	}
	if o.HTTPClient == nil {
		o.HTTPClient = httpx.NewClient()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Client{url: cfg.URL, secret: []byte(sec), http: o.HTTPClient, now: o.Now}, nil
}

// revokeBody is what a revocation hook receives: the account to act on
// and the decision behind it.
type revokeBody struct {
	Action string         `json:"action"`
	User   string         `json:"user"`
	Alert  detector.Alert `json:"alert"`
}

// Notify implements alerts.Notifier: the body is the alert.
func (c *Client) Notify(ctx context.Context, a detector.Alert) (bool, error) {
	body, err := json.Marshal(&a)
	if err != nil {
		return false, fmt.Errorf("encoding alert %s: %w", a.ID, err)
	}
	return c.post(ctx, "alert", a.ID, body, "posting alert "+a.ID)
}

// Revoke implements alerts.Revoker: the body names the user and carries
// the alert; the receiver ends the sessions and answers 2xx.
func (c *Client) Revoke(ctx context.Context, user string, a detector.Alert) (bool, error) {
	body, err := json.Marshal(&revokeBody{Action: detector.ActionRevoke, User: user, Alert: a})
	if err != nil {
		return false, fmt.Errorf("encoding revocation: %w", err)
	}
	return c.post(ctx, "revoke", a.ID, body, "posting revocation of "+user)
}

// Describe implements alerts.Describer.
func (c *Client) Describe(user string) string {
	return "POST " + httpx.ShowURL(c.url) + ` {"action":"revoke_sessions","user":` + strconv.Quote(user) + `,...}`
}

func (c *Client) post(ctx context.Context, event, id string, body []byte, op string) (bool, error) {
	ts := strconv.FormatInt(c.now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, httpx.Body(body))
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "atod")
	req.Header.Set(HeaderEvent, event)
	req.Header.Set(HeaderDelivery, id)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, "v1="+Sign(c.secret, ts, body))
	req.Header.Set(HeaderSignatureV2, "v2="+SignV2(c.secret, ts, event, id, body))
	_, _, retry, err := httpx.Send(c.http, req, op, nil)
	return retry, err
}

// Sign returns the hex HMAC-SHA256 of timestamp "." body.
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// SignV2 returns the hex HMAC-SHA256 of timestamp "." event "." delivery
// "." body. Unlike v1 it covers the headers a receiver dispatches and drops
// repeats by: with v1 alone, a captured request could be sent again within
// the tolerance under a new delivery id, or an alert delivery relabelled
// as a revocation. atod's events and delivery ids (hex alert ids) hold no
// dot, and Verify refuses ones that do, so the fields cannot run into each
// other.
func SignV2(secret []byte, timestamp, event, delivery string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	for _, f := range []string{timestamp, event, delivery} {
		m.Write([]byte(f))
		m.Write([]byte{'.'})
	}
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Errors of Verify.
var (
	ErrBadSignature = errors.New("signature does not match")
	ErrStale        = errors.New("timestamp outside the tolerance")
)

// Verify checks a request's signature headers against body, as a receiver
// does: the signature must match and the timestamp lie within tolerance of
// now, so that a captured request cannot be replayed later.
func Verify(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%s %q: %w", HeaderTimestamp, ts, ErrStale)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	// The fields are joined by dots: one holding a dot would let the
	// signature of other fields verify.
	event, delivery := h.Get(HeaderEvent), h.Get(HeaderDelivery)
	if (event != "alert" && event != "revoke") || delivery == "" || strings.Contains(delivery, ".") {
		return ErrBadSignature
	}
	got, ok := strings.CutPrefix(h.Get(HeaderSignatureV2), "v2=")
	want := SignV2(secret, ts, event, delivery, body)
	if !ok || !hmac.Equal([]byte(got), []byte(want)) {
		return ErrBadSignature
	}
	return nil
}
