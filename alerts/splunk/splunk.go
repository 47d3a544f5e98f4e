// Package splunk sends alerts to a Splunk HTTP Event Collector (HEC):
// POST /services/collector/event with "Authorization: Splunk <token>" and
// one JSON envelope per alert whose "event" is the alert itself, so that
// searches see the fields of DESIGN.md's alert.
package splunk

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/atod-project/atod/ingest/tlsfiles"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/internal/httpx"
	"github.com/atod-project/atod/alerts/internal/secret"
	"github.com/atod-project/atod/detector"
)

// EnvToken may carry the HEC token instead of token_file.
const EnvToken = "ATOD_SPLUNK_HEC_TOKEN"

// Config is sinks.splunk.
type Config struct {
	// URL is the collector's base, e.g. https://splunk.example.org:8088.
	URL       string `yaml:"url"`
	TokenFile string `yaml:"token_file"`
	// Index, Source, SourceType and Host fill the envelope; an empty
	// Index leaves it to the token's default.
	Index      string `yaml:"index"`
	Source     string `yaml:"source"`
	SourceType string `yaml:"sourcetype"`
	Host       string `yaml:"host"`
	// Channel is a GUID for X-Splunk-Request-Channel, which a collector
	// with indexer acknowledgement enabled requires.
	Channel string `yaml:"channel"`
	// CAFile holds PEM roots for a collector with a private CA.
	CAFile string `yaml:"ca_file"`
	// AllowHTTP permits a plain http URL to another host than the
	// loopback, where the token would travel in clear.
	AllowHTTP bool `yaml:"allow_http"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config { return Config{Source: "atod", SourceType: "atod:alert"} }

func (c Config) tokenRef() secret.Ref {
	return secret.Ref{Key: "token_file", Path: c.TokenFile, Env: EnvToken}
}

// Validate checks the config without reading the token; messages name keys
// relative to sinks.splunk.
func (c Config) Validate(lookupEnv func(string) (string, bool)) error {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	var errs []error
	if u, err := httpx.ParseServiceURL(c.URL); err != nil {
		errs = append(errs, fmt.Errorf("url: %w", err))
	} else if err := httpx.CheckPlainHTTP(u, c.AllowHTTP); err != nil {
		errs = append(errs, fmt.Errorf("url: %w", err))
	}
	if !secret.Present(c.tokenRef(), lookupEnv) {
		errs = append(errs, fmt.Errorf("token_file: required (or %s)", EnvToken))
	}
	return errors.Join(errs...)
}

// Options are what the caller provides besides the config.
type Options struct {
	HTTPClient *http.Client                // nil: one of its own (with CAFile's roots)
	LookupEnv  func(string) (string, bool) // nil: os.LookupEnv
}

// Client posts to one collector. It is safe for concurrent use.
type Client struct {
	cfg    Config
	url    string
	ackURL string
	token  string
	http   *http.Client

	ackFirst time.Duration // first wait before asking for an acknowledgement
	ackWait  time.Duration // how long to wait for one in all

	mu      sync.Mutex
	pending map[string]pendingAck // by alert id: sent, not yet acknowledged
}

var _ alerts.Notifier = (*Client)(nil)

// New reads the token and returns a client.
func New(cfg Config, o Options) (*Client, error) {
	if err := cfg.Validate(o.LookupEnv); err != nil {
		return nil, err
	}
	tok, err := secret.Load(cfg.tokenRef(), o.LookupEnv)
	if err != nil {
		return nil, err
	}
	if o.HTTPClient == nil {
		o.HTTPClient = httpx.NewClient()
		if cfg.CAFile != "" {
			pool, err := tlsfiles.Roots("ca_file", cfg.CAFile)
			if err != nil {
				return nil, err
			}
			o.HTTPClient.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
	}
	base := strings.TrimRight(cfg.URL, "/")
	return &Client{cfg: cfg, url: base + "/services/collector/event", ackURL: base + "/services/collector/ack",
		token: tok, http: o.HTTPClient, ackFirst: 200 * time.Millisecond, ackWait: ackWait,
		pending: map[string]pendingAck{}}, nil
}

// envelope is HEC's event format.
type envelope struct {
	Time       float64         `json:"time"`
	Host       string          `json:"host,omitempty"`
	Source     string          `json:"source,omitempty"`
	SourceType string          `json:"sourcetype,omitempty"`
	Index      string          `json:"index,omitempty"`
	Event      *detector.Alert `json:"event"`
}

// Notify implements alerts.Notifier. The envelope's time is the alert's
// event time, so Splunk files the alert when the sign-in happened.
func (c *Client) Notify(ctx context.Context, a detector.Alert) (bool, error) {
	op := "sending alert " + a.ID + " to Splunk"
	if id, sent, ok := c.pendingAck(a.ID); ok {
		// Sent by an earlier attempt whose wait ended first: ask again
		// rather than send it again.
		return c.awaitAck(ctx, a.ID, id, sent, op)
	}
	body, err := json.Marshal(&envelope{Time: float64(a.Time.UnixMilli()) / 1000, Host: c.cfg.Host, Source: c.cfg.Source,
		SourceType: c.cfg.SourceType, Index: c.cfg.Index, Event: &a})
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, httpx.Body(body))
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Authorization", "Splunk "+c.token)
	req.Header.Set("Content-Type", "application/json")
	if c.cfg.Channel != "" {
		req.Header.Set("X-Splunk-Request-Channel", c.cfg.Channel)
	}
	_, raw, retry, err := httpx.Send(c.http, req, op, parseAnswer)
	if err != nil {
		return retry, err
	}
	if code, text, ok := parseAnswer(raw); !ok || code != "0" {
		return false, fmt.Errorf("%s: unexpected answer: %s", op, firstNonEmpty(text, httpx.Snippet(raw)))
	}
	var ack struct {
		ID *uint64 `json:"ackId"`
	}
	if json.Unmarshal(raw, &ack) == nil && ack.ID != nil {
		sent := time.Now()
		c.notePending(a.ID, *ack.ID, sent)
		return c.awaitAck(ctx, a.ID, *ack.ID, sent, op)
	}
	return false, nil
}

// parseAnswer reads HEC's {"text": "...", "code": n}.
func parseAnswer(body []byte) (string, string, bool) {
	var a struct {
		Text string `json:"text"`
		Code *int   `json:"code"`
	}
	if json.Unmarshal(body, &a) != nil || a.Code == nil {
		return "", "", false
	}
	return fmt.Sprint(*a.Code), a.Text, true
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
