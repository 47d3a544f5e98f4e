package secret

import (
	"os"
	"path/filepath"
	"testing"
)

// A credential file that every local user may read (a Graph client
// secret, an Okta API token, a webhook signing secret, a Splunk token) is
// accepted without a word. Like ssh with a private key, atod should refuse
// (or at the very least warn about) a secret file readable by "other".
func TestLoadRefusesWorldReadableFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "graph-secret")
	if err := os.WriteFile(p, []byte("s3cr3t-value-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := Load(Ref{Key: "client_secret_file", Path: p, Env: "ATOD_TEST_UNSET"}, func(string) (string, bool) { return "", false })
	if err == nil {
		t.Errorf("Load of a secret file with mode 0644 returned %d bytes and no error; want an error naming client_secret_file and its permissions", len(v))
	}
}
