package httpx_test

import (
	"strings"
	"testing"

	"github.com/atod-project/atod/alerts/google"
	"github.com/atod-project/atod/alerts/graph"
	"github.com/atod-project/atod/alerts/okta"
)

// The cloud providers' credentials (a client secret or assertion, an Okta
// API token, a Google service account's assertion) never cross the network
// in clear: a plain http URL is refused unless it is the loopback (a test
// server), as for Dovecot and Splunk.
func TestProvidersRefusePlainHTTPBeyondLoopback(t *testing.T) {
	env := func(string) (string, bool) { return "x", true }
	g := graph.DefaultConfig()
	g.TenantID, g.ClientID, g.GraphURL = "t", "c", "http://graph.example.org/v1.0"
	o := okta.DefaultConfig()
	o.OrgURL, o.APITokenFile = "http://example.okta.com", "/tok"
	gg := google.DefaultConfig()
	gg.CredentialsFile, gg.Subject, gg.TokenURL = "/key.json", "admin@example.org", "http://oauth2.example.org/token"
	for name, err := range map[string]error{"graph": g.Validate(env), "okta": o.Validate(env), "google": gg.Validate()} {
		if err == nil || !strings.Contains(err.Error(), "in clear") {
			t.Errorf("%s: plain http to another host: %v, want refused", name, err)
		}
	}
	g.GraphURL = "http://127.0.0.1:8080/v1.0"
	o.OrgURL = "http://[::1]:8080"
	gg.TokenURL = "http://localhost:8080/token"
	for name, err := range map[string]error{"graph": g.Validate(env), "okta": o.Validate(env), "google": gg.Validate()} {
		if err != nil && strings.Contains(err.Error(), "in clear") {
			t.Errorf("%s: plain http to the loopback refused: %v", name, err)
		}
	}
}
