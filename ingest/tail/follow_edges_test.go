package tail

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/atod-project/atod/ingest"
)

// settle waits until no new line has arrived for quiet and returns them.
func (r *testRun) settle(quiet time.Duration) []string {
	var last int
	for {
		time.Sleep(quiet)
		r.mu.Lock()
		n := len(r.lines)
		got := append([]string(nil), r.lines...)
		r.mu.Unlock()
		if n == last {
			return got
		}
		last = n
	}
}

// A copytruncate whose new content grew past the old offset before the
// follower looked again must be read from the start, once: the follower
// must not first read the new content from the old offset (a cut line,
// then lines it reads again after noticing the new head).
func TestTruncatedAndRefilledWhileFollowing(t *testing.T) {
	log := filepath.Join(t.TempDir(), "mail.log")
	appendFile(t, log, "short 1\n")
	r := startFollowPoll(t, Config{Path: log, FromStart: true, Poll: 300 * time.Millisecond})
	r.wait(t, 1)
	time.Sleep(50 * time.Millisecond) // the follower is in its poll sleep
	// copytruncate, and the daemon writes on at once.
	if err := os.WriteFile(log, []byte(numbered(2, 4)), 0o644); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 4)
	got := r.settle(700 * time.Millisecond)
	want := "short 1|line 2|line 3|line 4"
	if strings.Join(got, "|") != want {
		t.Fatalf("got  %q\nwant %q", got, strings.Split(want, "|"))
	}
}

// Two rotations while atod was down (no compression): the saved position
// is in mail.log.2; the lines of mail.log.1 must not be skipped on the way
// to the current file.
func TestResumeAcrossTwoRotations(t *testing.T) {
	dir := t.TempDir()
	log, pos := filepath.Join(dir, "mail.log"), filepath.Join(dir, "state.pos")
	cfg := Config{Path: log, PositionFile: pos, FromStart: true, Poll: 5 * time.Millisecond}
	appendFile(t, log, numbered(1, 2))
	r := startFollowPoll(t, cfg)
	r.wait(t, 2)
	r.stop(t)
	appendFile(t, log, numbered(3, 4))
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, log, numbered(5, 6))
	if err := os.Rename(log+".1", log+".2"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, log, numbered(7, 8))
	r = startFollowPoll(t, cfg)
	r.wait(t, 2)
	got := r.settle(200 * time.Millisecond)
	wantNumbered(t, got, 3, 8)
}

// A FIFO at the path must give an error (or be followed), and Follow must
// return once its context ends; os.Open of a FIFO without a writer blocks
// for good, out of reach of ctx.
func TestFIFOIsNotASilentStop(t *testing.T) {
	log := filepath.Join(t.TempDir(), "mail.log")
	if err := syscall.Mkfifo(log, 0o644); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Follow(ctx, Config{Path: log, FromStart: true, Poll: 5 * time.Millisecond}, func([]byte) error { return nil })
	}()
	select {
	case err := <-done:
		t.Logf("Follow returned %v", err)
	case <-time.After(3 * time.Second):
		// Release the goroutine blocked in open.
		if w, err := os.OpenFile(log, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		<-done
		t.Fatal("Follow on a FIFO did not return 3 s after its context ended (blocked opening it)")
	}
}

// An over-long line still being written when atod stops cleanly is handed
// on (cut) at once; its position must then not make the next run hand it
// on again: after a clean stop nothing is read twice.
func TestOverlongPartialLineNotReadTwiceAfterCleanStop(t *testing.T) {
	dir := t.TempDir()
	log, pos := filepath.Join(dir, "mail.log"), filepath.Join(dir, "pos")
	cfg := Config{Path: log, PositionFile: pos, FromStart: true, MaxLine: 10, Poll: 5 * time.Millisecond}
	appendFile(t, log, "line 1\n"+strings.Repeat("x", 100)) // the writer has not finished the line
	r := startFollowPoll(t, cfg)
	r.wait(t, 1)
	if got := r.settle(100 * time.Millisecond); strings.Join(got, "|") != "line 1" {
		t.Fatalf("first run got %q, want \"line 1\" (the long line waits for its end)", got)
	}
	r.stop(t)
	appendFile(t, log, "\nline 3\n")
	r = startFollowPoll(t, cfg)
	r.wait(t, 2)
	got := r.settle(100 * time.Millisecond)
	if strings.Join(got, "|") != strings.Repeat("x", 10)+"|line 3" {
		t.Fatalf("second run got %q, want the long line cut, once, then \"line 3\"", got)
	}
}

// twoEvents decodes a line "a,b" into one event per comma-separated
// RFC 3339 time: an envelope of two records.
type twoEvents struct{}

func (twoEvents) Decode(rec []byte, emit func(ingest.Event)) error {
	for i, s := range strings.Split(string(rec), ",") {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return err
		}
		emit(ingest.Event{Time: tm, User: "u" + string(rune('0'+i)) + "@example.org"})
	}
	return nil
}
func (twoEvents) Flush(func(ingest.Event)) {}

// A line whose event lies too far ahead must be dead-lettered even when a
// later event of the same line is in time (as the Kafka source does for a
// record); the future event must not vanish without a dead letter.
func TestFutureEventInEnvelopeIsDeadLettered(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "events.log")
	line := "2150-01-01T00:00:00Z,2026-03-02T08:00:00Z"
	if err := os.WriteFile(log, []byte(line+"\nend\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := &Source{Config: Config{Path: log, FromStart: true, Poll: 5 * time.Millisecond, MaxFuture: 24 * time.Hour},
		Format: ingest.Format{Name: "two", New: func() ingest.Decoder { return twoEvents{} }}}
	_, dead, st := runSource(t, src, func(events, dead int) bool { return events+dead >= 2 })
	var reasons []string
	for _, d := range dead {
		reasons = append(reasons, d.Reason)
	}
	if len(dead) == 0 || !strings.Contains(dead[0].Reason, "ahead of this clock") {
		t.Fatalf("dead letters %q (stats %+v): the event of 2150 was dropped without a dead letter", reasons, st)
	}
}
