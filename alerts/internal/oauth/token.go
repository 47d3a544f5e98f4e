package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/atod-project/atod/alerts/internal/httpx"
)

// Token is an access token and when to stop using it.
type Token struct {
	Value   string
	Expires time.Time
	// Renew is when the token is replaced: expiryMargin before Expires,
	// or halfway through a lifetime shorter than twice that.
	Renew time.Time
}

// FormFunc returns the form of one token request; it is called for each
// request, so that a signed assertion is fresh (its exp is short).
type FormFunc func(now time.Time) (url.Values, error)

// Source fetches tokens from one token endpoint and caches them. It is
// safe for concurrent use; concurrent callers that find no valid token
// wait for one request rather than each sending their own.
type Source struct {
	URL    string
	Form   FormFunc
	Client *http.Client
	Now    func() time.Time // nil: time.Now

	mu    sync.Mutex
	token Token
}

// expiryMargin is how long before its expiry a token is replaced, so that
// a token does not expire between the check and the provider's reading. A
// token that lives less than twice as long is replaced halfway: with the
// whole margin, one of 60 s or less was fetched again for every call.
const expiryMargin = 60 * time.Second

// Token returns a cached token or fetches one. retry reports whether a
// failure may go away (the endpoint throttled or failed); a refused
// client (invalid_client, unauthorized_client) is permanent.
func (s *Source) Token(ctx context.Context) (tok string, retry bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.token.Value != "" && now.Before(s.token.Renew) {
		return s.token.Value, false, nil
	}
	t, retry, err := s.fetch(ctx, now)
	if err != nil {
		return "", retry, err
	}
	s.token = t
	return t.Value, false, nil
}

// Invalidate drops the cached token: a 401 from the API means it was
// revoked or its permissions changed, and the next call needs a new one.
func (s *Source) Invalidate() {
	s.mu.Lock()
	s.token = Token{}
	s.mu.Unlock()
}

func (s *Source) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// tokenAnswer is RFC 6749 5.1 and, for failures, 5.2.
type tokenAnswer struct {
	AccessToken string          `json:"access_token"`
	TokenType   string          `json:"token_type"`
	ExpiresIn   json.RawMessage `json:"expires_in"` // a number; some servers send a string
	Error       string          `json:"error"`
	Description string          `json:"error_description"`
}

func (s *Source) fetch(ctx context.Context, now time.Time) (Token, bool, error) {
	form, err := s.Form(now)
	if err != nil {
		return Token{}, false, fmt.Errorf("building token request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return Token{}, false, fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, body, err := httpx.Do(s.Client, req)
	if err != nil {
		return Token{}, httpx.TransportRetryable(err), fmt.Errorf("requesting token from %s: %w", s.URL, err)
	}
	return decodeToken(s.URL, resp.StatusCode, resp.Header.Get("Retry-After"), body, now)
}

// decodeToken reads the token endpoint's answer: status, Retry-After and
// body as from came back at now. retry is as for Token.
func decodeToken(from string, status int, retryAfter string, body []byte, now time.Time) (Token, bool, error) {
	var ans tokenAnswer
	jsonErr := json.Unmarshal(body, &ans)
	if status != http.StatusOK {
		se := &httpx.StatusError{Op: "requesting token from " + from, Status: status,
			After: httpx.ParseRetryAfter(retryAfter, now)}
		switch {
		case jsonErr == nil && ans.Error != "":
			se.Code, se.Message = httpx.Clip(ans.Error), httpx.Clip(ans.Description)
		case ans.AccessToken != "":
			se.Message = "the answer holds an access_token (not quoted)" // errors reach log lines
		default:
			se.Message = httpx.Snippet(body)
		}
		return Token{}, httpx.Retryable(status) || ans.Error == "temporarily_unavailable", se
	}
	if jsonErr != nil {
		return Token{}, true, fmt.Errorf("token answer from %s is not JSON: %w", from, jsonErr)
	}
	if ans.AccessToken == "" {
		return Token{}, true, fmt.Errorf("token answer from %s has no access_token", from)
	}
	if ans.TokenType != "" && !strings.EqualFold(ans.TokenType, "Bearer") {
		return Token{}, false, fmt.Errorf("token answer from %s: token_type %q, want Bearer", from, httpx.Clip(ans.TokenType))
	}
	life := time.Hour
	if n, ok := parseSeconds(ans.ExpiresIn); ok {
		life = n
	}
	return Token{Value: ans.AccessToken, Expires: now.Add(life), Renew: now.Add(life - min(expiryMargin, life/2))}, false, nil
}

// maxLifetime caps expires_in: a token kept longer would outlive a
// revoked grant, and a bogus expires_in (a Unix time, 1e30) must not
// overflow.
const maxLifetime = 24 * time.Hour

// parseSeconds reads expires_in: a JSON number of seconds or a string
// holding one. ok is false for anything else and for less than a second.
func parseSeconds(raw json.RawMessage) (d time.Duration, ok bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = json.RawMessage(s)
	}
	var n float64
	if json.Unmarshal(raw, &n) != nil || n < 1 {
		return 0, false
	}
	return time.Duration(min(n, maxLifetime.Seconds())) * time.Second, true
}
