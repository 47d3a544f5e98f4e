package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
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

// Client calls one Okta org. It is safe for concurrent use.
type Client struct {
	org      string
	http     *http.Client
	apiToken string        // SSWS, or
	tokens   *oauth.Source // OAuth service app
	revokeOA bool
	now      func() time.Time

	mu  sync.Mutex
	ids map[string]knownID // login → user id, for idTTL
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
	c := &Client{org: strings.TrimRight(cfg.OrgURL, "/"), http: o.HTTPClient, revokeOA: cfg.RevokeOAuthTokens,
		now: o.Now, ids: map[string]knownID{}}
	if !cfg.useOAuth() {
		tok, err := secret.Load(cfg.tokenRef(), o.LookupEnv)
		if err != nil {
			return nil, err
		}
		c.apiToken = tok
		return c, nil
	}
	raw, err := secretfile.Read("private_key_file", cfg.PrivateKeyFile)
	if err != nil {
		return nil, err
	}
	key, err := oauth.ParsePrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("private_key_file %s: %w", cfg.PrivateKeyFile, err)
	}
	tokenURL := c.org + "/oauth2/v1/token"
	header := map[string]any{}
	if cfg.KeyID != "" {
		header["kid"] = cfg.KeyID
	}
	c.tokens = &oauth.Source{URL: tokenURL, Client: o.HTTPClient, Now: o.Now, Form: func(now time.Time) (url.Values, error) {
		jwt, err := oauth.SignJWT(key, oauth.RS256, header, map[string]any{"aud": tokenURL, "iss": cfg.ClientID,
			"sub": cfg.ClientID, "jti": oauth.NewJTI(), "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()})
		if err != nil {
			return nil, err
		}
		return url.Values{"grant_type": {"client_credentials"}, "scope": {"okta.users.read okta.users.manage"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion":      {jwt}}, nil
	}}
	return c, nil
}

func (c *Client) sessionsURL(id string) string {
	return c.org + "/api/v1/users/" + url.PathEscape(id) + "/sessions?oauthTokens=" + strconv.FormatBool(c.revokeOA)
}

// Describe implements alerts.Describer.
func (c *Client) Describe(user string) string {
	get := c.org + "/api/v1/users/" + url.PathEscape(user)
	if strings.Contains(user, "/") {
		get = c.searchURL(user)
	}
	return "GET " + get + "; DELETE " +
		strings.Replace(c.sessionsURL("ID"), "/users/ID/", "/users/{id}/", 1)
}

// knownID is a user id looked up, and when.
type knownID struct {
	id string
	at time.Time
}

// idTTL is how long a login's id is remembered. An id does not change, but
// the login may come to name another user (deleted and created again, a
// rehire): an id kept for ever would then send every revocation to a user
// who no longer exists, or to the wrong one.
const idTTL = time.Hour

// Revoke implements alerts.Revoker; user is the Okta login. The user's id
// is looked up and remembered for idTTL; a remembered id that Okta no
// longer knows (404) is looked up again once.
func (c *Client) Revoke(ctx context.Context, user string, _ detector.Alert) (bool, error) {
	for try := 0; ; try++ {
		id, remembered, retry, err := c.userID(ctx, user)
		if err != nil {
			return retry, err
		}
		_, retry, err = c.call(ctx, http.MethodDelete, c.sessionsURL(id), "revoking sessions of "+user)
		var se *httpx.StatusError
		if remembered && try == 0 && errors.As(err, &se) && se.Status == http.StatusNotFound {
			c.forget(user)
			continue
		}
		return retry, err
	}
}

func (c *Client) forget(user string) {
	c.mu.Lock()
	delete(c.ids, strings.ToLower(user))
	c.mu.Unlock()
}

// userID returns user's id, and whether it was remembered rather than
// looked up now.
func (c *Client) userID(ctx context.Context, user string) (id string, remembered, retry bool, err error) {
	key := strings.ToLower(user)
	now := c.now()
	c.mu.Lock()
	k, ok := c.ids[key]
	c.mu.Unlock()
	if ok && now.Sub(k.at) < idTTL {
		return k.id, true, false, nil
	}
	op := "looking up " + user
	id, retry, err = c.lookUp(ctx, user, op)
	if err != nil {
		return "", false, retry, err
	}
	c.mu.Lock()
	if len(c.ids) > 100_000 {
		clear(c.ids)
	}
	c.ids[key] = knownID{id: id, at: now}
	c.mu.Unlock()
	return id, false, false, nil
}

// oktaUser is what atod reads of Okta's user object.
type oktaUser struct {
	ID      string `json:"id"`
	Profile struct {
		Login string `json:"login"`
	} `json:"profile"`
}

// lookUp asks Okta for user's id. A login with a "/" cannot be named in
// the path, even escaped (Okta says such users can only be fetched by id),
// so it is found with a search on profile.login instead.
func (c *Client) lookUp(ctx context.Context, user, op string) (string, bool, error) {
	if !strings.Contains(user, "/") {
		body, retry, err := c.call(ctx, http.MethodGet, c.org+"/api/v1/users/"+url.PathEscape(user), op)
		if err != nil {
			return "", retry, err
		}
		var u oktaUser
		if err := json.Unmarshal(body, &u); err != nil || u.ID == "" {
			return "", false, fmt.Errorf("%s: malformed answer: %s", op, httpx.Snippet(body))
		}
		if !sameLogin(u.Profile.Login, user) {
			return "", false, fmt.Errorf("%s: Okta answered with the user %q, whose login is not this one: nothing revoked", op, u.Profile.Login)
		}
		return u.ID, false, nil
	}
	body, retry, err := c.call(ctx, http.MethodGet, c.searchURL(user), op)
	if err != nil {
		return "", retry, err
	}
	var found []oktaUser
	if err := json.Unmarshal(body, &found); err != nil {
		return "", false, fmt.Errorf("%s: malformed answer: %s", op, httpx.Snippet(body))
	}
	var ids []string
	for _, u := range found {
		if strings.EqualFold(u.Profile.Login, user) && u.ID != "" {
			ids = append(ids, u.ID)
		}
	}
	if len(ids) != 1 {
		return "", false, fmt.Errorf("%s: %d users with this login found by search", op, len(ids))
	}
	return ids[0], false, nil
}

// sameLogin reports whether Okta's user with login is the account atod
// named user. The path /api/v1/users/{x} resolves more than logins: "me" is
// the API token's owner (an administrator), x may be another user's id, and
// a login's short name (before the "@") finds the full login. Only the
// last is the same account, and only when atod's name has no domain.
func sameLogin(login, user string) bool {
	if strings.EqualFold(login, user) {
		return true
	}
	local, _, ok := strings.Cut(login, "@")
	return ok && !strings.Contains(user, "@") && strings.EqualFold(local, user)
}

func (c *Client) searchURL(login string) string {
	return c.org + "/api/v1/users?" + url.Values{"search": {`profile.login eq "` + searchEscape(login) + `"`}}.Encode()
}

// searchEscape escapes a string for a double-quoted literal of Okta's
// search expressions.
func searchEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// call sends one API request. Okta signals its rate limits with
// X-Rate-Limit-Reset (epoch seconds) rather than Retry-After; the wait is
// taken from there.
func (c *Client) call(ctx context.Context, method, u, op string) ([]byte, bool, error) {
	for try := 0; ; try++ {
		auth, retry, err := c.authorization(ctx)
		if err != nil {
			return nil, retry, fmt.Errorf("%s: %w", op, err)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, nil)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", op, err)
		}
		req.Header.Set("Authorization", auth)
		req.Header.Set("Accept", "application/json")
		resp, body, retry, err := httpx.Send(c.http, req, op, parseError)
		var se *httpx.StatusError
		if errors.As(err, &se) {
			if se.Status == http.StatusTooManyRequests && se.After == 0 {
				if reset, perr := strconv.ParseInt(resp.Header.Get("X-Rate-Limit-Reset"), 10, 64); perr == nil {
					se.After = untilReset(reset, c.now())
				}
			}
			if se.Status == http.StatusUnauthorized && c.tokens != nil && try == 0 {
				c.tokens.Invalidate()
				continue
			}
		}
		return body, retry, err
	}
}

func (c *Client) authorization(ctx context.Context) (string, bool, error) {
	if c.tokens == nil {
		return "SSWS " + c.apiToken, false, nil
	}
	tok, retry, err := c.tokens.Token(ctx)
	if err != nil {
		return "", retry, err
	}
	return "Bearer " + tok, false, nil
}

// parseError reads Okta's error object: {"errorCode","errorSummary",...}.
func parseError(body []byte) (string, string, bool) {
	var e struct {
		Code    string `json:"errorCode"`
		Summary string `json:"errorSummary"`
	}
	if json.Unmarshal(body, &e) != nil || e.Code == "" {
		return "", "", false
	}
	return e.Code, e.Summary, true
}

// untilReset is how long to wait for X-Rate-Limit-Reset (Unix seconds),
// plus a second, at most an hour. Counted in seconds: a garbled reset
// centuries ahead overflowed time.Time and waited a second.
func untilReset(reset int64, now time.Time) time.Duration {
	switch n := now.Unix(); {
	case reset <= n:
		return time.Second
	case reset > n+3600:
		return time.Hour + time.Second
	default:
		return time.Duration(reset-n)*time.Second + time.Second
	}
}
