package google

import (
	"testing"

	"github.com/atod-project/atod/alerts/internal/apitest"
)

// FuzzParseError checks the reading of Google's error answers, which
// become the code and message of the error a person reads: any bytes are
// read without a panic, only a JSON answer is understood, and then the
// message is non-empty and both it and the code (status, or the first
// reason, or none) are values of the answer, not keys or made-up text.
func FuzzParseError(f *testing.F) {
	for _, b := range []string{
		`{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}`,
		`{"error":{"code":403,"message":"Not Authorized to access this resource/api","errors":[{"message":"Not Authorized to access this resource/api","domain":"global","reason":"forbidden"}]}}`,
		`{"error":{"code":404,"message":"Resource Not Found: userKey","errors":[{"reason":"notFound"}]}}`,
		`{"error":"unauthorized_client","error_description":"Client is unauthorized to retrieve access tokens using this method."}`,
		`{"error":{"message":"no code","errors":[]}}`,
		`{"ERROR":{"Message":"\u00e9\ud800","errors":[{"reason":null},{"reason":"second"}]}}`,
		`<html><body>Service Unavailable</body></html>`,
	} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code, msg, ok := parseError(body)
		apitest.CheckErrorAnswer(t, body, code, msg, ok, true)
	})
}
