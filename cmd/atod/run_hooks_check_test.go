package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// docs/hooks.md, "When they run": "A bad value in the sections stops `run`
// and `replay --enable-hooks` with exit status 2 and a message naming the
// key"; DESIGN.md: every key "is validated at start, and a bad value stops
// the program". atod run validated hooks: only when a hook or sink section
// was present (newResponse runs only if hasResponse), so a hooks section of
// bad values (workers 0, a 1ms lease, max_revocations 0) started without a
// word (found by a review of the docs against the code).
func TestRunRefusesBadHooksValuesWithoutHook(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mail.log"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "atod.yaml")
	if err := os.WriteFile(cfgPath, []byte(`follow:
  path: mail.log
hooks:
  workers: 0
  lease: 1ms
  limits:
    max_revocations: 0
`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"run", "--config", cfgPath, "--log-level", "warn"}, nil, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "hooks.workers") {
		t.Errorf("atod run with hooks.workers 0, hooks.lease 1ms, hooks.limits.max_revocations 0 (no hook or sink): exit %d, stderr %q; want exit 2 naming hooks.workers",
			code, stderr.String())
	}
}
