package httpx

import (
	"strings"
	"testing"
)

// A service URL with a user name or password is refused, and no error
// shows what was written.
func TestParseServiceURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://splunk.example.org:8088":          "",
		"http://127.0.0.1:8080/doveadm/v1":         "",
		"https://admin:s3cr3t-pw@okta.example.com": "holds a user name or password",
		"https://s3cr3t-token@splunk.example.org":  "holds a user name or password",
		"ftp://admin:s3cr3t-pw@host/":              "is not an http(s) URL",
		"https://ad min:s3cr3t-pw@host:notaport/x": "is not an http(s) URL",
		"/relative/path":                           "is not an http(s) URL",
	} {
		_, err := ParseServiceURL(raw)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", raw, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: error %v, want %q", raw, err, want)
		case err != nil && strings.Contains(err.Error(), "s3cr3t"):
			t.Errorf("%s: the error shows the secret: %v", raw, err)
		}
	}
}
