package command

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
)

// script writes an executable shell script: the program under test, not
// a shell between atod and it.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hook")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

var alert = detector.Alert{ID: "a1", Rule: "compromise_after_attack", User: "anna@example.org", IP: "95.24.0.7",
	Action: detector.ActionRevoke}

func TestRevokeRunsProgramWithoutShell(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	p := script(t, `printf '%s|' "$@" > "$OUT"; echo "$ATOD_EVENT $ATOD_USER $ATOD_ALERT_ID ${HOME:-nohome}" >> "$OUT"; cat >> "$OUT"`)
	r, err := New(Config{Path: p, Args: []string{"--user={user}", "$(rm -rf /)", "{ip}"}, Env: []string{"OUT=" + out}})
	if err != nil {
		t.Fatal(err)
	}
	evil := alert
	if _, err := r.Revoke(context.Background(), "anna@example.org; rm -rf /", evil); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	want := `--user=anna@example.org; rm -rf /|$(rm -rf /)|95.24.0.7|revoke anna@example.org; rm -rf / a1 nohome
{"action":"revoke_sessions","alert":{"id":"a1","time":"0001-01-01T00:00:00Z","rule":"compromise_after_attack","user":"anna@example.org","ip":"95.24.0.7","score":0,"severity":"","action":"revoke_sessions","reasons":null,"evidence":null},"user":"anna@example.org; rm -rf /"}`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestExitStatus(t *testing.T) {
	for _, tc := range []struct {
		body  string
		retry bool
		want  string
	}{
		{"exit 0", false, ""},
		{"echo busy >&2; exit 75", true, "exit status 75: busy"},
		{"echo 'no such user' >&2; exit 1", false, "exit status 1: no such user"},
	} {
		r, err := New(Config{Path: script(t, tc.body)})
		if err != nil {
			t.Fatal(err)
		}
		retry, err := r.Notify(context.Background(), alert)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) || retry != tc.retry {
			t.Errorf("%q: retry=%v err=%v", tc.body, retry, err)
		}
	}
}

func TestTimeoutIsRetryable(t *testing.T) {
	r, err := New(Config{Path: script(t, "sleep 30")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if retry, err := r.Revoke(ctx, "anna@example.org", alert); err == nil || !retry {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{{Path: "hook.sh"}, {Path: "/nonexistent/hook"}, {Path: t.TempDir()},
		{Path: script(t, ""), Env: []string{"NOEQUALS"}}, {Path: script(t, ""), Env: []string{"ATOD_USER=ceo@example.org"}}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
