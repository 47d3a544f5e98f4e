package graph

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/internal/httpx"
	"github.com/atod-project/atod/alerts/internal/oauth"
	"github.com/atod-project/atod/alerts/internal/secret"
	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest/secretfile"
)

// Options are what the caller provides besides the config.
type Options struct {
	HTTPClient *http.Client                // nil: one of its own
	LookupEnv  func(string) (string, bool) // nil: os.LookupEnv
	Now        func() time.Time            // nil: time.Now
}

// Client calls Microsoft Graph for one tenant. It is safe for concurrent
// use.
type Client struct {
	cfg    Config
	http   *http.Client
	tokens *oauth.Source
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
	if o.Now == nil {
		o.Now = time.Now
	}
	tokenURL := strings.TrimRight(cfg.LoginURL, "/") + "/" + url.PathEscape(cfg.TenantID) + "/oauth2/v2.0/token"
	form, err := tokenForm(cfg, tokenURL, o.LookupEnv)
	if err != nil {
		return nil, err
	}
	cfg.GraphURL = strings.TrimRight(cfg.GraphURL, "/")
	return &Client{cfg: cfg, http: o.HTTPClient,
		tokens: &oauth.Source{URL: tokenURL, Form: form, Client: o.HTTPClient, Now: o.Now}}, nil
}

// nationalGraphHosts are Microsoft Graph's hosts in the national clouds
// (US Government L4 and L5, China). A token for one of them is asked for
// with that host's scope; the global service's would be refused there.
var nationalGraphHosts = map[string]bool{
	"graph.microsoft.us": true, "dod-graph.microsoft.us": true, "microsoftgraph.chinacloudapi.cn": true,
}

// graphScope is the token scope for graph_url: its host's for a national
// cloud, the global service's otherwise (a proxy or a test server in
// front of it).
func graphScope(graphURL string) string {
	if u, err := url.Parse(graphURL); err == nil && nationalGraphHosts[strings.ToLower(u.Hostname())] {
		return "https://" + strings.ToLower(u.Hostname()) + "/.default"
	}
	return "https://graph.microsoft.com/.default"
}

// tokenForm builds the client-credentials request: with the secret, or
// with a client assertion signed by the certificate's key, carrying the
// certificate's SHA-256 thumbprint so Entra ID knows which key to check.
func tokenForm(cfg Config, tokenURL string, lookupEnv func(string) (string, bool)) (oauth.FormFunc, error) {
	base := url.Values{"client_id": {cfg.ClientID}, "scope": {graphScope(cfg.GraphURL)},
		"grant_type": {"client_credentials"}}
	if cfg.CertificateFile == "" {
		sec, err := secret.Load(cfg.secretRef(), lookupEnv)
		if err != nil {
			return nil, err
		}
		return func(time.Time) (url.Values, error) {
			f := cloneValues(base)
			f.Set("client_secret", sec)
			return f, nil
		}, nil
	}
	key, thumb, err := loadCertificate(cfg)
	if err != nil {
		return nil, err
	}
	return func(now time.Time) (url.Values, error) {
		jwt, err := oauth.SignJWT(key, oauth.PS256, map[string]any{"x5t#S256": thumb}, map[string]any{
			"aud": tokenURL, "iss": cfg.ClientID, "sub": cfg.ClientID, "jti": oauth.NewJTI(),
			"nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		})
		if err != nil {
			return nil, err
		}
		f := cloneValues(base)
		f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		f.Set("client_assertion", jwt)
		return f, nil
	}, nil
}

func loadCertificate(cfg Config) (*rsa.PrivateKey, string, error) {
	certPEM, err := os.ReadFile(cfg.CertificateFile)
	if err != nil {
		return nil, "", fmt.Errorf("certificate_file: %w", err)
	}
	der, err := oauth.ParseCertificate(certPEM)
	if err != nil {
		return nil, "", fmt.Errorf("certificate_file %s: %w", cfg.CertificateFile, err)
	}
	keyPEM, err := secretfile.Read("private_key_file", cfg.PrivateKeyFile)
	if err != nil {
		return nil, "", err
	}
	key, err := oauth.ParsePrivateKey(keyPEM)
	if err != nil {
		return nil, "", fmt.Errorf("private_key_file %s: %w", cfg.PrivateKeyFile, err)
	}
	// A key of another certificate signs tokens that Entra ID refuses, at
	// the first revocation: found here, it stops the start instead.
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, "", fmt.Errorf("certificate_file %s: %w", cfg.CertificateFile, err)
	}
	if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return nil, "", fmt.Errorf("private_key_file %s is not the key of certificate_file %s", cfg.PrivateKeyFile, cfg.CertificateFile)
	}
	sum := sha256.Sum256(der)
	return key, base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v)+2)
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// Describe implements alerts.Describer.
func (c *Client) Describe(user string) string {
	d := "POST " + c.userURL(user) + "/revokeSignInSessions"
	if c.cfg.DisableAccount {
		d += "; PATCH " + c.userURL(user) + ` {"accountEnabled":false}`
	}
	if c.cfg.ConfirmCompromised {
		d += "; POST " + c.cfg.GraphURL + "/identityProtection/riskyUsers/confirmCompromised"
	}
	return d
}

// userURL is the user's resource. A name that starts with $ must be
// addressed as users('$name@domain') (Graph's "Get user": a plain path
// segment with a $ reads as a system query option), with any ' doubled.
func (c *Client) userURL(user string) string {
	if strings.HasPrefix(user, "$") {
		return c.cfg.GraphURL + "/users('" + url.PathEscape(strings.ReplaceAll(user, "'", "''")) + "')"
	}
	return c.cfg.GraphURL + "/users/" + url.PathEscape(user)
}

// Revoke implements alerts.Revoker. user is the user principal name (or
// object id). The steps are idempotent, so a retry after a partial failure
// repeats the ones already done harmlessly.
func (c *Client) Revoke(ctx context.Context, user string, _ detector.Alert) (bool, error) {
	var ans *struct {
		Value *bool `json:"value"`
	}
	if retry, err := c.call(ctx, http.MethodPost, c.userURL(user)+"/revokeSignInSessions", nil, &ans,
		"revoking sign-in sessions of "+user); err != nil {
		return retry, err
	}
	// v1.0 documents 200 {"value": true}; a 204, which leaves ans nil, is
	// a success too. A body without "value": true is not.
	if ans != nil && (ans.Value == nil || !*ans.Value) {
		return false, fmt.Errorf("revoking sign-in sessions of %s: Graph answered without \"value\": true", user)
	}
	if c.cfg.DisableAccount {
		if retry, err := c.call(ctx, http.MethodPatch, c.userURL(user), map[string]any{"accountEnabled": false}, nil,
			"disabling account "+user); err != nil {
			return retry, err
		}
	}
	if c.cfg.ConfirmCompromised {
		// riskyUsers wants object ids, not names.
		var u struct {
			ID string `json:"id"`
		}
		if retry, err := c.call(ctx, http.MethodGet, c.userURL(user)+"?$select=id", nil, &u, "looking up id of "+user); err != nil {
			return retry, err
		}
		if u.ID == "" {
			return false, fmt.Errorf("looking up id of %s: Graph answered without an id", user)
		}
		if retry, err := c.call(ctx, http.MethodPost, c.cfg.GraphURL+"/identityProtection/riskyUsers/confirmCompromised",
			map[string]any{"userIds": []string{u.ID}}, nil, "confirming compromise of "+user); err != nil {
			return retry, err
		}
	}
	return false, nil
}

// call sends one Graph request with the app's token and decodes a JSON
// answer into out (when out is not nil). A 401 drops the cached token and
// tries once more with a new one: the token may have been revoked.
func (c *Client) call(ctx context.Context, method, u string, body any, out any, op string) (bool, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return false, fmt.Errorf("%s: encoding request: %w", op, err)
		}
	}
	for try := 0; ; try++ {
		tok, retry, err := c.tokens.Token(ctx)
		if err != nil {
			return retry, fmt.Errorf("%s: %w", op, err)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, httpx.Body(payload))
		if err != nil {
			return false, fmt.Errorf("%s: %w", op, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, raw, retry, err := httpx.Send(c.http, req, op, parseError)
		var se *httpx.StatusError
		if errors.As(err, &se) && se.Status == http.StatusUnauthorized && try == 0 {
			c.tokens.Invalidate()
			continue
		}
		if err != nil {
			return retry, err
		}
		if out != nil && resp.StatusCode != http.StatusNoContent {
			if err := json.Unmarshal(raw, out); err != nil {
				return false, fmt.Errorf("%s: malformed answer (HTTP %d): %w", op, resp.StatusCode, err)
			}
		}
		return false, nil
	}
}

// parseError reads Graph's error object: {"error":{"code","message"}}.
func parseError(body []byte) (string, string, bool) {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error.Code == "" {
		return "", "", false
	}
	return e.Error.Code, e.Error.Message, true
}
