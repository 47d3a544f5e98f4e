package tail

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// follower runs Follow in the background and collects its lines.
type testRun struct {
	cancel context.CancelFunc
	done   chan error

	mu    sync.Mutex
	lines []string
}

func startFollow(t *testing.T, cfg Config) *testRun {
	t.Helper()
	cfg.Poll = 5 * time.Millisecond
	return startFollowPoll(t, cfg)
}

// startFollowPoll is startFollow with the caller's Poll kept.
func startFollowPoll(t *testing.T, cfg Config) *testRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &testRun{cancel: cancel, done: make(chan error, 1)}
	go func() {
		r.done <- Follow(ctx, cfg, func(line []byte) error {
			r.mu.Lock()
			r.lines = append(r.lines, string(line))
			r.mu.Unlock()
			return nil
		})
	}()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// wait waits until n lines have arrived and returns them.
func (r *testRun) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		got := append([]string(nil), r.lines...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d lines, want %d: %q", len(got), n, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *testRun) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	if err := <-r.done; err != nil {
		t.Errorf("Follow: %v", err)
	}
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func numbered(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

func wantNumbered(t *testing.T, got []string, from, to int) {
	t.Helper()
	want := strings.Split(strings.TrimSuffix(numbered(from, to), "\n"), "\n")
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

func TestFollowAppendsAndPartialLines(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "mail.log")
	appendFile(t, log, numbered(1, 2))
	r := startFollow(t, Config{Path: log, FromStart: true})
	r.wait(t, 2)
	appendFile(t, log, "line 3\nline")
	time.Sleep(30 * time.Millisecond)
	appendFile(t, log, " 4\r\n")
	wantNumbered(t, r.wait(t, 4), 1, 4)
}

func TestFollowStartsAtEndWithoutPosition(t *testing.T) {
	log := filepath.Join(t.TempDir(), "mail.log")
	appendFile(t, log, numbered(1, 3))
	r := startFollow(t, Config{Path: log})
	time.Sleep(30 * time.Millisecond)
	appendFile(t, log, numbered(4, 5))
	wantNumbered(t, r.wait(t, 2), 4, 5)
}

func TestFollowWaitsForTheFile(t *testing.T) {
	log := filepath.Join(t.TempDir(), "mail.log")
	r := startFollow(t, Config{Path: log})
	time.Sleep(20 * time.Millisecond)
	appendFile(t, log, numbered(1, 2))
	wantNumbered(t, r.wait(t, 2), 1, 2)
}

func TestFollowRotation(t *testing.T) {
	log := filepath.Join(t.TempDir(), "mail.log")
	appendFile(t, log, numbered(1, 2))
	r := startFollow(t, Config{Path: log, FromStart: true})
	r.wait(t, 2)
	// logrotate's create mode: rename, the writer still appends to the
	// old file for a moment, then a new file appears.
	old, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	if _, err := old.WriteString("line 3\nline 4"); err != nil { // no newline: the last line of the file
		t.Fatal(err)
	}
	old.Close()
	appendFile(t, log, numbered(5, 6))
	wantNumbered(t, r.wait(t, 6), 1, 6)
}

func TestFollowTruncation(t *testing.T) {
	log := filepath.Join(t.TempDir(), "mail.log")
	appendFile(t, log, numbered(1, 3))
	r := startFollow(t, Config{Path: log, FromStart: true})
	r.wait(t, 3)
	if err := os.Truncate(log, 0); err != nil { // copytruncate
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	appendFile(t, log, numbered(4, 5))
	wantNumbered(t, r.wait(t, 5), 1, 5)
}

func TestFollowTruncatedAndRefilledUnseen(t *testing.T) {
	log := filepath.Join(t.TempDir(), "mail.log")
	appendFile(t, log, "short 1\n")
	r := startFollow(t, Config{Path: log, FromStart: true})
	r.wait(t, 1)
	r.stop(t)
	// Truncated and refilled past the old offset while nobody looked.
	if err := os.WriteFile(log, []byte(numbered(2, 4)), 0o644); err != nil {
		t.Fatal(err)
	}
	r = startFollow(t, Config{Path: log, FromStart: true})
	wantNumbered(t, r.wait(t, 3), 2, 4)
}

func TestResumeAfterRestart(t *testing.T) {
	dir := t.TempDir()
	log, pos := filepath.Join(dir, "mail.log"), filepath.Join(dir, "mail.pos")
	cfg := Config{Path: log, PositionFile: pos, FromStart: true}
	appendFile(t, log, numbered(1, 3))
	r := startFollow(t, cfg)
	r.wait(t, 3)
	r.stop(t)
	appendFile(t, log, numbered(4, 6))
	r = startFollow(t, cfg)
	wantNumbered(t, r.wait(t, 3), 4, 6)
	r.stop(t)
	// Nothing new: a restart reads nothing.
	r = startFollow(t, cfg)
	time.Sleep(50 * time.Millisecond)
	if got := r.wait(t, 0); len(got) != 0 {
		t.Fatalf("reread %q", got)
	}
}

func TestResumeAcrossRotation(t *testing.T) {
	dir := t.TempDir()
	log, pos := filepath.Join(dir, "mail.log"), filepath.Join(dir, "state", "mail.pos")
	if err := os.Mkdir(filepath.Dir(pos), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Path: log, PositionFile: pos, FromStart: true}
	appendFile(t, log, numbered(1, 2))
	r := startFollow(t, cfg)
	r.wait(t, 2)
	r.stop(t)
	// While atod is down: more lines, a rotation, a new file.
	appendFile(t, log, numbered(3, 4))
	if err := os.Rename(log, log+"-20260302"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, log, numbered(5, 7))
	r = startFollow(t, cfg)
	wantNumbered(t, r.wait(t, 5), 3, 7)
}

func TestOverlongLineIsCut(t *testing.T) {
	log := filepath.Join(t.TempDir(), "mail.log")
	appendFile(t, log, strings.Repeat("x", 100)+"\nline 2\n")
	r := startFollow(t, Config{Path: log, FromStart: true, MaxLine: 10})
	got := r.wait(t, 2)
	if got[0] != strings.Repeat("x", 10) || got[1] != "line 2" {
		t.Fatalf("got %q", got)
	}
}

func TestBadPositionFile(t *testing.T) {
	dir := t.TempDir()
	pos := filepath.Join(dir, "pos")
	if err := os.WriteFile(pos, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Follow(context.Background(), Config{Path: filepath.Join(dir, "log"), PositionFile: pos}, func([]byte) error { return nil })
	if err == nil || !strings.Contains(err.Error(), pos) {
		t.Fatalf("got %v, want an error naming %s", err, pos)
	}
}

// A position file naming the very file being followed but with a head
// length out of range used to panic in matches; it is an error now.
func TestPositionFileOutOfRange(t *testing.T) {
	dir := t.TempDir()
	log, pos := filepath.Join(dir, "mail.log"), filepath.Join(dir, "pos")
	appendFile(t, log, numbered(1, 2))
	fi, err := os.Stat(log)
	if err != nil {
		t.Fatal(err)
	}
	dev, ino, _ := identity(fi)
	for _, tc := range []struct{ headLen, offset, want string }{
		{"-1", "0", "head_len"},
		{"1099511627776", "0", "head_len"},
		{"0", "-1", "offset"},
	} {
		b := fmt.Sprintf(`{"path":%q,"dev":%d,"ino":%d,"offset":%s,"head_len":%s,"head":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}`,
			log, dev, ino, tc.offset, tc.headLen)
		if err := os.WriteFile(pos, []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
		err := Follow(context.Background(), Config{Path: log, PositionFile: pos}, func([]byte) error { return nil })
		if err == nil || !strings.Contains(err.Error(), pos) || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("head_len %s, offset %s: got %v, want an error naming %s and %s", tc.headLen, tc.offset, err, pos, tc.want)
		}
	}
}
