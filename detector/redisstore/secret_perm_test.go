package redisstore

import (
	"os"
	"path/filepath"
	"testing"
)

// The pseudonym key is what keeps account names and addresses out of
// Redis: whoever reads it reverses every key (hash a staff list) and opens
// every sealed name. A key file readable by every local user is accepted
// silently.
func TestPseudonymKeyFileNotWorldReadable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "atod-pseudonym")
	if err := os.WriteFile(p, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.Addrs = []string{"127.0.0.1:1"}
	c.PseudonymKeyFile = p
	verr := c.Validate()
	_, serr := secret("pseudonym_key_file", p, EnvPseudonymKey, func(string) (string, bool) { return "", false })
	if verr == nil && serr == nil {
		t.Errorf("redis.pseudonym_key_file with mode 0644 is accepted by Validate and read without error; want it refused (or reported) for its permissions")
	}
}
