// Package google signs a Google Workspace account out of every session
// through the Admin SDK Directory API (POST users/{userKey}/signOut), which
// ends its web and device sessions and resets its sign-in cookies. atod
// acts as a service account with domain-wide delegation: it signs a JWT
// with the account's key, impersonating an administrator (subject), and
// exchanges it for a token (RFC 7523 JWT bearer grant). The delegation must
// grant the scope admin.directory.user.security.
package google

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/internal/httpx"
	"github.com/atod-project/atod/alerts/internal/oauth"
	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest/secretfile"
)

// Scope is the one permission the delegation must grant.
const Scope = "https://www.googleapis.com/auth/admin.directory.user.security"

// Config is hooks.google.
type Config struct {
	// CredentialsFile is the service account's JSON key as the Cloud
	// console downloads it (a secret: keep it readable by atod only).
	CredentialsFile string `yaml:"credentials_file"`
	// Subject is the administrator the service account acts as.
	Subject string `yaml:"subject"`
	// TokenURL overrides the key file's token_uri; BaseURL is the Admin
	// SDK's root. Tests point both at local servers.
	TokenURL string `yaml:"token_url"`
	BaseURL  string `yaml:"base_url"`
}

// DefaultConfig returns the public endpoints.
func DefaultConfig() Config { return Config{BaseURL: "https://admin.googleapis.com"} }

// Validate checks the config; messages name keys relative to hooks.google.
func (c Config) Validate() error {
	var errs []error
	if c.CredentialsFile == "" {
		errs = append(errs, errors.New("credentials_file: required (the service account's JSON key)"))
	}
	if !strings.Contains(c.Subject, "@") {
		errs = append(errs, fmt.Errorf("subject: an administrator's address is required, got %q", c.Subject))
	}
	for _, u := range []struct{ key, v string }{{"base_url", c.BaseURL}, {"token_url", c.TokenURL}} {
		if u.key == "token_url" && u.v == "" {
			continue // the key file's token_uri, checked by New
		}
		if p, err := httpx.ParseServiceURL(u.v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", u.key, err))
		} else if err := httpx.RequireHTTPS(p); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", u.key, err))
		}
	}
	return errors.Join(errs...)
}

// serviceAccount is the part of the JSON key file atod uses.
type serviceAccount struct {
	Type         string `json:"type"`
	ClientEmail  string `json:"client_email"`
	PrivateKey   string `json:"private_key"`
	PrivateKeyID string `json:"private_key_id"`
	TokenURI     string `json:"token_uri"`
}

// Options are what the caller provides besides the config.
type Options struct {
	HTTPClient *http.Client     // nil: one of its own
	Now        func() time.Time // nil: time.Now
}

// Client calls the Directory API. It is safe for concurrent use.
type Client struct {
	base   string
	http   *http.Client
	tokens *oauth.Source
}

var (
	_ alerts.Revoker   = (*Client)(nil)
	_ alerts.Describer = (*Client)(nil)
)

// New reads the key file and returns a client.
func New(cfg Config, o Options) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	raw, err := secretfile.Read("credentials_file", cfg.CredentialsFile)
	if err != nil {
		return nil, err
	}
	var sa serviceAccount
	if err := json.Unmarshal(raw, &sa); err != nil {
		return nil, fmt.Errorf("credentials_file %s: not a JSON key: %w", cfg.CredentialsFile, err)
	}
	if sa.Type != "service_account" || sa.ClientEmail == "" || sa.PrivateKey == "" {
		return nil, fmt.Errorf("credentials_file %s: not a service account key (type %q)", cfg.CredentialsFile, sa.Type)
	}
	key, err := oauth.ParsePrivateKey([]byte(sa.PrivateKey))
	if err != nil {
		return nil, fmt.Errorf("credentials_file %s: private_key: %w", cfg.CredentialsFile, err)
	}
	tokenURL := cmp(cfg.TokenURL, sa.TokenURI, "https://oauth2.googleapis.com/token")
	if u, err := url.Parse(tokenURL); err != nil || u.Host == "" {
		return nil, fmt.Errorf("credentials_file %s: token_uri %q is not a URL", cfg.CredentialsFile, tokenURL)
	} else if err := httpx.RequireHTTPS(u); err != nil {
		return nil, fmt.Errorf("credentials_file %s: token_uri: %w", cfg.CredentialsFile, err)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = httpx.NewClient()
	}
	form := func(now time.Time) (url.Values, error) {
		jwt, err := oauth.SignJWT(key, oauth.RS256, map[string]any{"kid": sa.PrivateKeyID}, map[string]any{
			"iss": sa.ClientEmail, "sub": cfg.Subject, "scope": Scope, "aud": tokenURL,
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		})
		if err != nil {
			return nil, err
		}
		return url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jwt}}, nil
	}
	return &Client{base: strings.TrimRight(cfg.BaseURL, "/"), http: o.HTTPClient,
		tokens: &oauth.Source{URL: tokenURL, Form: form, Client: o.HTTPClient, Now: o.Now}}, nil
}

func cmp(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func (c *Client) signOutURL(user string) string {
	return c.base + "/admin/directory/v1/users/" + url.PathEscape(user) + "/signOut"
}

// Describe implements alerts.Describer.
func (c *Client) Describe(user string) string { return "POST " + c.signOutURL(user) }

// Revoke implements alerts.Revoker; user is the primary address (or the
// user's id). A 401 drops the token and tries once more with a new one.
func (c *Client) Revoke(ctx context.Context, user string, _ detector.Alert) (bool, error) {
	op := "signing out " + user
	for try := 0; ; try++ {
		tok, retry, err := c.tokens.Token(ctx)
		if err != nil {
			return retry, fmt.Errorf("%s: %w", op, err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.signOutURL(user), nil)
		if err != nil {
			return false, fmt.Errorf("%s: %w", op, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		_, _, retry, err = httpx.Send(c.http, req, op, parseError)
		var se *httpx.StatusError
		if errors.As(err, &se) && se.Status == http.StatusUnauthorized && try == 0 {
			c.tokens.Invalidate()
			continue
		}
		if se != nil && se.Status == http.StatusForbidden && quotaReasons[se.Code] {
			retry = true // throttling, not a missing permission
		}
		return retry, err
	}
}

// quotaReasons are the reasons of a 403 that the Directory API's "Limits
// and quotas" page says to retry with exponential back-off: it signals its
// quotas with 403 as well as 429.
var quotaReasons = map[string]bool{"userRateLimitExceeded": true, "rateLimitExceeded": true, "quotaExceeded": true}

// parseError reads Google's error object:
// {"error":{"code":403,"message":"...","errors":[{"reason":"forbidden",...}],"status":"PERMISSION_DENIED"}}.
// The code is the first error's reason when there is one: the status is
// the same PERMISSION_DENIED for a missing permission and for a quota.
func parseError(body []byte) (string, string, bool) {
	var e struct {
		Error struct {
			Message string `json:"message"`
			Status  string `json:"status"`
			Errors  []struct {
				Reason string `json:"reason"`
			} `json:"errors"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error.Message == "" {
		return "", "", false
	}
	code := e.Error.Status
	if len(e.Error.Errors) > 0 && e.Error.Errors[0].Reason != "" {
		code = e.Error.Errors[0].Reason
	}
	return code, e.Error.Message, true
}
