package graph

import (
	"testing"

	"github.com/atod-project/atod/alerts/internal/apitest"
)

// FuzzParseError checks the reading of Graph's error answers, which become
// the code and message of the error a person reads: any bytes are read
// without a panic, only a JSON answer is understood, and then the code is
// non-empty and both code and message are values of the answer, not keys
// or text made up along the way.
func FuzzParseError(f *testing.F) {
	for _, b := range []string{
		`{"error":{"code":"Request_ResourceNotFound","message":"Resource not found."}}`,
		`{"error":{"code":"TooManyRequests","message":"Too many requests."}}`,
		`{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}`,
		`{"error":{"code":"InvalidAuthenticationToken","message":"Lifetime validation failed, the token is expired."}}`,
		`{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}`,
		`{"error":{"code":"","message":"no code"}}`,
		`{"ERROR":{"Code":"\u00e9\ud800","message":null},"error":{"code":7}}`,
		`<html><body>Service Unavailable</body></html>`,
	} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code, msg, ok := parseError(body)
		apitest.CheckErrorAnswer(t, body, code, msg, ok, false)
	})
}
