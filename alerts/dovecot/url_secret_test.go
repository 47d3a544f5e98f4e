package dovecot

import (
	"strings"
	"testing"
)

// A doveadm password written into hooks.dovecot.url reached the dry run's
// audit record through Describe, which showed the URL as written. atod
// sends its own credential, so such a URL is refused, without showing it.
func TestURLWithPasswordIsRefusedUnshown(t *testing.T) {
	const pw = "d0veadm-Pa55w0rd"
	cfg := DefaultConfig()
	cfg.URL = "http://doveadm:" + pw + "@127.0.0.1:8080/doveadm/v1"
	_, err := New(cfg, Options{LookupEnv: func(k string) (string, bool) { return "test-key", k == EnvAPIKey }})
	if err == nil || strings.Contains(err.Error(), pw) || !strings.Contains(err.Error(), "url: holds a user name or password") {
		t.Fatalf("New with a password in the URL: %v", err)
	}
	cfg.URL = "ftp://doveadm:" + pw + "@127.0.0.1/"
	if err := cfg.Validate(func(string) (string, bool) { return "k", true }); err == nil || strings.Contains(err.Error(), pw) {
		t.Fatalf("Validate of an ftp URL: %v", err)
	}
}
