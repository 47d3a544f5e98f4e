package okta

import (
	"testing"

	"github.com/atod-project/atod/alerts/internal/apitest"
)

// FuzzParseError checks the reading of Okta's error answers, which become
// the code and message of the error a person reads: any bytes are read
// without a panic, only a JSON answer is understood, and then the code is
// non-empty and both code and summary are values of the answer, not keys
// or text made up along the way.
func FuzzParseError(f *testing.F) {
	for _, b := range []string{
		`{"errorCode":"E0000007","errorSummary":"Not found: Resource not found: x (User)","errorLink":"E0000007","errorId":"oaeX","errorCauses":[]}`,
		`{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorLink":"E0000047","errorId":"oae1","errorCauses":[]}`,
		`{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorLink":"E0000011","errorId":"oae2","errorCauses":[]}`,
		`{"errorCode":"E0000006","errorSummary":"You do not have permission to perform the requested action","errorLink":"E0000006","errorId":"oae3","errorCauses":[]}`,
		`{"errorCode":"E0000009","errorSummary":"Internal Server Error","errorLink":"E0000009","errorId":"oae4","errorCauses":[]}`,
		`{"error":"invalid_client","error_description":"The client secret supplied for a confidential client is invalid."}`,
		`{"ERRORCODE":"\u00e9\ud800","errorSummary":null,"errorcode":"E1"}`,
		`<html><body>Service Unavailable</body></html>`,
	} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code, msg, ok := parseError(body)
		apitest.CheckErrorAnswer(t, body, code, msg, ok, false)
	})
}
