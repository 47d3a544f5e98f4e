// Package dovecot disconnects a mailbox's IMAP and POP3 sessions through
// Dovecot's doveadm HTTP API: POST /doveadm/v1 with the kick command for
// the user. Kicking ends the connections the attacker holds open; it does
// not change the password, so pair it with a hook at the identity provider
// or a password reset. doveadm's kick selects connections by user and
// address, not by session id, so the session id of an event is not used.
package dovecot

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/internal/httpx"
	"github.com/atod-project/atod/alerts/internal/secret"
	"github.com/atod-project/atod/detector"
)

// Environment variables that may carry the credentials.
const (
	EnvAPIKey   = "ATOD_DOVEADM_API_KEY"
	EnvPassword = "ATOD_DOVEADM_PASSWORD"
)

// Config is hooks.dovecot.
type Config struct {
	// URL is the doveadm HTTP endpoint (service doveadm, inet_listener
	// http), including /doveadm/v1.
	URL string `yaml:"url"`
	// APIKeyFile holds doveadm_api_key (EnvAPIKey may carry it instead);
	// alternatively PasswordFile holds doveadm_password for Basic auth as
	// Username.
	APIKeyFile   string `yaml:"api_key_file"`
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
	// OnlyAlertIP kicks only the user's connections from the alert's
	// address, leaving the owner's own sessions up. Off by default: an
	// attacker rarely keeps one address.
	OnlyAlertIP bool `yaml:"only_alert_ip"`
	// Force is kick's -f, needed when imap processes serve several users
	// (client_limit > 1).
	Force bool `yaml:"force"`
	// AllowHTTP permits a plain http URL to another host than the
	// loopback, where the credential would travel in clear.
	AllowHTTP bool `yaml:"allow_http"`
}

// DefaultConfig returns the defaults of a local Dovecot.
func DefaultConfig() Config {
	return Config{URL: "http://127.0.0.1:8080/doveadm/v1", Username: "doveadm"}
}

func (c Config) keyRef() secret.Ref {
	return secret.Ref{Key: "api_key_file", Path: c.APIKeyFile, Env: EnvAPIKey}
}

func (c Config) passwordRef() secret.Ref {
	return secret.Ref{Key: "password_file", Path: c.PasswordFile, Env: EnvPassword}
}

// Validate checks the config without reading secrets; messages name keys
// relative to hooks.dovecot.
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
	if c.APIKeyFile != "" && c.PasswordFile != "" {
		errs = append(errs, errors.New("api_key_file conflicts with password_file: choose one credential"))
	} else if !secret.Present(c.keyRef(), lookupEnv) && !secret.Present(c.passwordRef(), lookupEnv) {
		errs = append(errs, fmt.Errorf("api_key_file: required (or %s, or password_file or %s)", EnvAPIKey, EnvPassword))
	}
	return errors.Join(errs...)
}

// Options are what the caller provides besides the config.
type Options struct {
	HTTPClient *http.Client                // nil: one of its own
	LookupEnv  func(string) (string, bool) // nil: os.LookupEnv
}

// Client talks to one doveadm HTTP endpoint. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
	auth string
}

var (
	_ alerts.Revoker   = (*Client)(nil)
	_ alerts.Describer = (*Client)(nil)
)

// New reads the credential and returns a client.
func New(cfg Config, o Options) (*Client, error) {
	if err := cfg.Validate(o.LookupEnv); err != nil {
		return nil, err
	}
	if o.HTTPClient == nil {
		o.HTTPClient = httpx.NewClient()
	}
	c := &Client{cfg: cfg, http: o.HTTPClient}
	// A configured file wins over the environment, as for every secret:
	// a password_file is not overridden by an API key in the environment.
	if cfg.APIKeyFile != "" || cfg.PasswordFile == "" && secret.Present(c.cfg.keyRef(), o.LookupEnv) {
		key, err := secret.Load(cfg.keyRef(), o.LookupEnv)
		if err != nil {
			return nil, err
		}
		c.auth = "X-Dovecot-API " + base64.StdEncoding.EncodeToString([]byte(key))
	} else {
		pw, err := secret.Load(cfg.passwordRef(), o.LookupEnv)
		if err != nil {
			return nil, err
		}
		c.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+pw))
	}
	return c, nil
}

// command is the request body: a list of [name, parameters, tag].
func (c *Client) command(user string, a detector.Alert) []any {
	mask := []string{user}
	if c.cfg.OnlyAlertIP {
		if ip, err := netip.ParseAddr(a.IP); err == nil {
			mask = append(mask, ip.String())
		}
	}
	params := map[string]any{"mask": mask}
	if c.cfg.Force {
		params["force"] = true
	}
	return []any{[]any{"kick", params, tag(a)}}
}

func tag(a detector.Alert) string { return "atod-" + a.ID }

// Describe implements alerts.Describer.
func (c *Client) Describe(user string) string {
	if err := kickable(user); err != nil {
		return "nothing: " + err.Error()
	}
	b, _ := json.Marshal(c.command(user, detector.Alert{ID: "ALERT"}))
	return "POST " + httpx.ShowURL(c.cfg.URL) + " " + string(b)
}

// exit codes of doveadm (sysexits) that kick answers with.
const (
	exitNoUser   = 68 // nobody matched: the user has no open session
	exitTempFail = 75
)

// Revoke implements alerts.Revoker. A user without open sessions is not
// an error: there is nothing to end.
func (c *Client) Revoke(ctx context.Context, user string, a detector.Alert) (bool, error) {
	op := "kicking " + user + " from Dovecot"
	if err := kickable(user); err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	body, err := json.Marshal(c.command(user, a))
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL, httpx.Body(body))
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", c.auth)
	_, raw, retry, err := httpx.Send(c.http, req, op, nil)
	if err != nil {
		return retry, err
	}
	return readAnswer(op, raw, tag(a))
}

// readAnswer reads doveadm's answer to the command tagged wantTag, for
// Revoke; op says what was being done, for the error message.
func readAnswer(op string, raw []byte, wantTag string) (bool, error) {
	// [["doveadmResponse", [...], tag]] or [["error", {"type": ..., "exitCode": n}, tag]]
	var answer [][]json.RawMessage
	if err := json.Unmarshal(raw, &answer); err != nil || len(answer) != 1 || len(answer[0]) != 3 {
		return false, fmt.Errorf("%s: malformed answer: %s", op, httpx.Snippet(raw))
	}
	var kind, gotTag string
	if json.Unmarshal(answer[0][0], &kind) != nil || json.Unmarshal(answer[0][2], &gotTag) != nil || gotTag != wantTag {
		return false, fmt.Errorf("%s: malformed answer: %s", op, httpx.Snippet(raw))
	}
	switch kind {
	case "doveadmResponse":
		return false, nil
	case "error":
		var e struct {
			Type     string `json:"type"`
			ExitCode int    `json:"exitCode"`
		}
		_ = json.Unmarshal(answer[0][1], &e)
		switch {
		case e.Type == "exitCode" && e.ExitCode == exitNoUser:
			return false, nil
		case e.Type == "exitCode" && e.ExitCode == exitTempFail:
			return true, fmt.Errorf("%s: doveadm failed temporarily (exit code %d)", op, e.ExitCode)
		}
		return false, fmt.Errorf("%s: doveadm error %s (exit code %d)", op, e.Type, e.ExitCode)
	}
	return false, fmt.Errorf("%s: unexpected answer %q", op, kind)
}
