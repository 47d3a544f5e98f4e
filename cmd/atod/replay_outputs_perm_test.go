package main

import (
	"os"
	"path/filepath"
	"testing"
)

// replay's --out (alerts: account names, addresses, places) and --dlq
// (raw log lines: accounts, addresses, and with Dovecot's
// auth_verbose_passwords the passwords users typed) hold personal data.
// They were created readable by every local user (0644), where atod's other
// outputs (sinks.file, hooks.audit: alerts/rotate.go) and the follow
// position file are created 0640 / 0600. A file atod creates must not be
// readable by "other" (a umask only takes permissions away).
func TestReplayOutputsNotWorldReadable(t *testing.T) {
	dir := t.TempDir()
	out, dlq := filepath.Join(dir, "alerts.jsonl"), filepath.Join(dir, "dead.jsonl")
	o, err := openOutputs(out, dlq, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer o.abandon()
	for _, p := range []string{out, dlq} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := st.Mode().Perm(); m&0o007 != 0 {
			t.Errorf("%s created with mode %v: readable by every local user; want no permission for others (0640 or 0600)", filepath.Base(p), m)
		}
	}
}
