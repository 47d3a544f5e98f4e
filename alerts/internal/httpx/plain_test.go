package httpx

import (
	"net/url"
	"strings"
	"testing"
)

// A credential may go over plain http only to this machine, or where the
// config says so.
func TestCheckPlainHTTP(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://doveadm.example.org/doveadm/v1": true,
		"http://127.0.0.1:8080/doveadm/v1":       true,
		"http://[::1]:8080/doveadm/v1":           true,
		"http://[::ffff:127.0.0.2]:8080/":        true,
		"http://LOCALHOST:8088":                  true,
		"http://10.0.0.5:8080/doveadm/v1":        false,
		"http://splunk.example.org:8088":         false,
		"http://localhost.example.org:8088":      false,
		"http://user:secret@10.0.0.5/":           false,
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckPlainHTTP(u, false); (err == nil) != want {
			t.Errorf("%s: %v, want accepted %v", raw, err, want)
		} else if err != nil && (u.User != nil && strings.Contains(err.Error(), "secret")) {
			t.Errorf("%s: the error quotes the password: %v", raw, err)
		}
		if err := CheckPlainHTTP(u, true); err != nil {
			t.Errorf("%s with allow_http: %v", raw, err)
		}
	}
}
