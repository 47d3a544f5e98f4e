package command

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// On attempt_timeout the program's whole process group is killed: a
// script's child (the CLI it calls) must not run on beside the retry.
func TestTimeoutKillsWholeProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	// The script starts a child (as any script calling a CLI does) and waits for it.
	r, err := New(Config{Path: script(t, `sleep 30 & echo $! > "$PIDFILE"; wait`), Env: []string{"PIDFILE=" + pidFile}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	retry, err := r.Revoke(ctx, "anna@example.org", alert)
	if err == nil || !retry {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	raw, rerr := os.ReadFile(pidFile)
	if rerr != nil {
		t.Fatal(rerr)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	time.Sleep(100 * time.Millisecond)
	if syscall.Kill(pid, 0) == nil {
		st, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if !strings.Contains(string(st), ") Z ") {
			t.Errorf("child %d of the timed-out program is still running after the attempt was reported killed", pid)
		}
	}
}

// A program that exits 0 but leaves a child holding its output open is
// done, not failed: the revocation was carried out.
func TestExitZeroWithBackgroundChildIsDone(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	r, err := New(Config{Path: script(t, `sleep 5 & echo $! > "$PIDFILE"; exit 0`), Env: []string{"PIDFILE=" + pidFile}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if raw, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(raw))); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	retry, err := r.Revoke(context.Background(), "anna@example.org", alert)
	if err != nil {
		t.Errorf("program exited 0 but the revocation is reported failed: retry=%v err=%v", retry, err)
	}
}

// Only the start of a program's output is kept: one that prints without
// end must not fill atod's memory.
func TestOutputIsBounded(t *testing.T) {
	r, err := New(Config{Path: script(t, `head -c 33554432 /dev/zero; exit 1`)})
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err = r.Notify(context.Background(), alert)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("want an error for exit 1")
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Errorf("running a program that printed 32 MiB allocated %d MiB: its output is buffered without limit", grew>>20)
	}
}

// The output quoted in an error is cut at a character boundary: the error
// goes into JSON audit records and log lines.
func TestOutputCutKeepsUTF8(t *testing.T) {
	r, err := New(Config{Path: script(t, `printf '%0299d' 0; printf '\303\274\303\274\303\274'; exit 1`)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Notify(context.Background(), alert)
	if err == nil {
		t.Fatal("want an error for exit 1")
	}
	if !utf8.ValidString(err.Error()) {
		t.Errorf("error is not valid UTF-8: %q", err.Error()[len(err.Error())-10:])
	}
}
