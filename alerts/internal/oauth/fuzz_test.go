package oauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/alerts/internal/httpx"
)

// Token answers the providers' tests use, and what goes wrong with them.
var tokenAnswers = []string{
	`{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"tok-1"}`,
	`{"token_type":"Bearer","expires_in":3600,"access_token":"eyJ.okta.token","scope":"okta.users.read okta.users.manage"}`,
	`{"access_token":"ya29.test-token","expires_in":3599,"token_type":"Bearer"}`,
	`{"access_token":"ya29.test-token","expires_in":"3599","token_type":"bearer"}`,
	`{"access_token":"ya29.test-token","expires_in":1e3}`,
	`{"access_token":"ya29.test-token","expires_in":99999999999}`,
	`{"access_token":"ya29.test-token","expires_in":-5,"token_type":"mac"}`,
	`{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}`,
	`{"error":"unauthorized_client","error_description":"Client is unauthorized to retrieve access tokens using this method."}`,
	`{"error":"temporarily_unavailable"}`,
	`{"token_type":"Bearer","expires_in":3599}`,
	`<html>`,
	``,
}

// wording is every fixed word decodeToken's errors may hold, besides
// what they quote from the answer on purpose.
const wording = "requesting token from token answer from is not JSON has no access_token token_type want Bearer HTTP retry after"

// FuzzDecodeToken checks the token endpoint's answer as a whole. A token
// is accepted only from a 200 and then has a value and a lifetime that is
// positive and at most maxLifetime, so that it is neither refetched for
// every call nor kept after its grant is gone; anything else is an error
// and no token. A refusal keeps its status, and the access token of an
// answer is never quoted into an error, since errors reach log lines.
func FuzzDecodeToken(f *testing.F) {
	for _, a := range tokenAnswers {
		f.Add(200, []byte(a), "")
		f.Add(400, []byte(a), "")
	}
	f.Add(503, []byte(`{"error":"temporarily_unavailable"}`), "30")
	f.Add(429, []byte(`<html>`), "Mon, 02 Mar 2026 08:00:00 GMT")
	f.Add(203, []byte(tokenAnswers[0]), "")
	const from = "https://login.example/oauth2/v2.0/token"
	now := time.Date(2026, 3, 2, 7, 59, 30, 0, time.UTC)
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter string) {
		if status < 100 || status > 599 {
			status = 100 + (status%500+500)%500
		}
		tok, retry, err := decodeToken(from, status, retryAfter, body, now)
		var ans tokenAnswer
		_ = json.Unmarshal(body, &ans)
		if err != nil {
			if tok != (Token{}) {
				t.Fatalf("token %+v with error %v", tok, err)
			}
			quoted := strings.Join([]string{from, wording, ans.TokenType, ans.Error, ans.Description}, "\n")
			if len(ans.AccessToken) >= 8 && strings.Contains(err.Error(), ans.AccessToken) && !strings.Contains(quoted, ans.AccessToken) {
				t.Fatalf("error %q quotes the access token", err)
			}
			if status == http.StatusOK {
				return
			}
			var se *httpx.StatusError
			if !errors.As(err, &se) || se.Status != status || se.After < 0 {
				t.Fatalf("HTTP %d gave %#v", status, err)
			}
			if want := httpx.Retryable(status) || ans.Error == "temporarily_unavailable"; retry != want {
				t.Fatalf("HTTP %d %q: retry %v", status, ans.Error, retry)
			}
			return
		}
		if status != http.StatusOK || retry {
			t.Fatalf("HTTP %d accepted, retry %v", status, retry)
		}
		if tok.Value == "" || tok.Value != ans.AccessToken {
			t.Fatalf("token %q from %q", tok.Value, body)
		}
		if life := tok.Expires.Sub(now); life <= 0 || life > maxLifetime {
			t.Fatalf("lifetime %s from %q", life, body)
		}
	})
}

// FuzzParseSeconds checks expires_in, a number or (from some servers) a
// string: what is read is a positive whole number of seconds at most
// maxLifetime, a number in range is read as its value (1e3 is a thousand
// seconds, not one), and what is not a positive number, such as 0x10 or
// 12abc, leaves the caller's default.
func FuzzParseSeconds(f *testing.F) {
	for _, s := range []string{`3599`, `"3600"`, `" 3600 "`, `0`, `-5`, `1e3`, `3599.9`, `0.5`, `"12abc"`, `0x10`,
		`99999999999`, `18446744074`, `1e400`, `null`, `"NaN"`, `"Infinity"`, `true`, `"`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, ok := parseSeconds(raw)
		if !ok {
			if d != 0 {
				t.Fatalf("%q: %s but not ok", raw, d)
			}
			return
		}
		if d <= 0 || d > maxLifetime || d%time.Second != 0 {
			t.Fatalf("%q: lifetime %s", raw, d)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%q is not JSON but reads as %s", raw, d)
		}
		s, quoted := v.(string)
		if !quoted {
			s = string(raw)
		}
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 && time.Duration(n) <= maxLifetime/time.Second && d != time.Duration(n)*time.Second {
			t.Fatalf("%q: %s, want %d seconds", raw, d, n)
		}
		if n, ok := v.(float64); ok && n <= maxLifetime.Seconds() && d != time.Duration(n)*time.Second {
			t.Fatalf("%q: %s, want %v seconds", raw, d, n)
		}
	})
}
