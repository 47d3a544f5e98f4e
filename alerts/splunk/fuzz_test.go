package splunk

import (
	"encoding/json"
	"slices"
	"strconv"
	"testing"

	"github.com/atod-project/atod/alerts/internal/apitest"
)

// FuzzParseAnswer checks the reading of HEC's answers, on which success
// hangs (code "0") and which become the error a person reads: any bytes
// are read without a panic, only a JSON answer is understood, and then
// the code is the decimal form of a number in the answer and the text a
// value of it, so that no answer without a code of 0 passes for success.
func FuzzParseAnswer(f *testing.F) {
	for _, b := range []string{
		`{"text":"Success","code":0}`,
		`{"text":"Invalid token","code":4}`,
		`{"text":"Token is required","code":2}`,
		`{"text":"Invalid data format","code":6,"invalid-event-number":0}`,
		`{"text":"Server is busy","code":9}`,
		`{"text":"Success"}`,
		`{"text":"Success","code":"0"}`,
		`{"code":-0,"CODE":1e2,"Text":"\u00e9\ud800"}`,
		`{"code":null}`,
		`<html><body>Service Unavailable</body></html>`,
	} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code, text, ok := parseAnswer(body)
		if !ok {
			if code != "" || text != "" {
				t.Fatalf("%q: not ok but %q %q", body, code, text)
			}
			return
		}
		n, err := strconv.Atoi(code)
		if !json.Valid(body) || err != nil || strconv.Itoa(n) != code {
			t.Fatalf("%q: ok with code %q", body, code)
		}
		strs, nums, err := apitest.JSONValues(body)
		if err != nil || (text != "" && !slices.Contains(strs, text)) {
			t.Fatalf("%q: text %q is not a value of the answer %q (%v)", body, text, strs, err)
		}
		if !slices.ContainsFunc(nums, func(s string) bool { v, err := strconv.Atoi(s); return err == nil && v == n }) {
			t.Fatalf("%q: code %q is none of the answer's numbers %q", body, code, nums)
		}
	})
}
