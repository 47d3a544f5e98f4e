package secretfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		name    string
		mode    os.FileMode
		data    string
		wantErr string
	}{
		{"owner", 0o600, "s3cr3t\n", ""},
		{"group", 0o640, "s3cr3t\n", ""},
		{"owner-only-read", 0o400, "s3cr3t\n", ""},
		{"world", 0o644, "s3cr3t\n", "redis.pseudonym_key_file: " + filepath.Join(dir, "world") + " can be read by every user of this machine (mode -rw-r--r--)"},
		{"huge", 0o600, strings.Repeat("x", maxSize+1), "larger than 1 MiB"},
	} {
		p := write(c.name, c.mode, c.data)
		got, err := Read("redis.pseudonym_key_file", p)
		switch {
		case c.wantErr == "" && (err != nil || string(got) != c.data):
			t.Errorf("%s: %q, %v", c.name, got, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: error %v, want %q", c.name, err, c.wantErr)
		case err != nil && strings.Contains(err.Error(), "s3cr3t"):
			t.Errorf("%s: the error shows the secret: %v", c.name, err)
		}
	}
	if _, err := Read("ops.token_file", filepath.Join(dir, "missing")); err == nil || !strings.HasPrefix(err.Error(), "ops.token_file: ") {
		t.Errorf("missing file: %v", err)
	}
}
