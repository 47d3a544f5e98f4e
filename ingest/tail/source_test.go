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

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/dovecot"
	"github.com/atod-project/atod/ingest/syslog"
)

func TestSourceDecodesAndCounts(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "dovecot.log")
	lines := "Mar 02 08:19:52 master: Info: Dovecot v2.3.19.1 starting up\n" +
		"Mar 02 08:19:55 auth: Info: passwd-file(anna,127.0.0.1,<S1>): Password mismatch\n" +
		"Mar 02 08:19:57 imap-login: Info: Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): user=<anna>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, session=<S1>\n" +
		"\n" +
		"Mar 02 08:20:11 imap-login: Info: Login: user=<anna>, method=PLAIN, rip=bad, lip=127.0.0.1, mpid=1, session=<S2>\n" +
		"garbage\n"
	if err := os.WriteFile(log, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	src := &Source{
		Config: Config{Path: log, PositionFile: filepath.Join(dir, "pos"), FromStart: true, Poll: 5 * time.Millisecond},
		Format: dovecot.Format(syslog.Options{Year: 2026}),
	}
	events, dead, st := runSource(t, src, func(_, dead int) bool { return dead == 2 })
	if len(events) != 1 || events[0].Reason != ingest.ReasonBadPassword || events[0].User != "anna" {
		t.Fatalf("events %+v", events)
	}
	if st.Lines != 6 || st.Events != 1 || st.Blank != 1 || st.Skipped != 1 || st.DeadLetters != 2 {
		t.Fatalf("stats %+v", st)
	}
	if dead[0].Line != 5 || dead[0].Source != log {
		t.Fatalf("dead letter %+v", dead[0])
	}
}

// runSource runs src until enough says it has handled enough events and
// dead letters (or 10 s passed), stops it, and returns what it got.
func runSource(t *testing.T, src *Source, enough func(events, dead int) bool) ([]ingest.Event, []ingest.DeadLetter, ingest.Stats) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var events []ingest.Event
	var dead []ingest.DeadLetter
	done := make(chan struct{})
	var st ingest.Stats
	var err error
	go func() {
		defer close(done)
		st, err = src.Run(ctx, ingest.HandlerFunc(func(_ context.Context, e ingest.Event) error {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
			return nil
		}), deadLetters(func(d ingest.DeadLetter) {
			mu.Lock()
			dead = append(dead, d)
			mu.Unlock()
		}))
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		ok := enough(len(events), len(dead))
		mu.Unlock()
		if ok || time.Now().After(deadline) {
			break
		}
	}
	cancel()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	return events, dead, st
}

type deadLetters func(ingest.DeadLetter)

func (f deadLetters) DeadLetter(_ context.Context, d ingest.DeadLetter) error { f(d); return nil }

// A line whose event is further ahead of the clock than MaxFuture is
// dead-lettered with the reason; the lines around it are handled.
func TestSourceDeadLettersFarFuture(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "events.jsonl")
	future := `{"time":"2150-01-01T00:00:00Z","user":"skewed@example.org","ip":"192.0.2.9","outcome":"success"}`
	lines := `{"time":"2026-03-02T08:00:00Z","user":"a@example.org","ip":"192.0.2.1","outcome":"success"}` + "\n" +
		future + "\n" +
		`{"time":"2026-03-02T08:00:01Z","user":"b@example.org","ip":"192.0.2.2","outcome":"success"}` + "\n"
	if err := os.WriteFile(log, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	src := &Source{Config: Config{Path: log, FromStart: true, Poll: 5 * time.Millisecond, MaxFuture: 24 * time.Hour},
		Format: ingest.Canonical}
	events, dead, _ := runSource(t, src, func(events, _ int) bool { return events == 2 })
	var users []string
	for _, e := range events {
		users = append(users, e.User)
	}
	if len(users) != 2 || users[0] != "a@example.org" || users[1] != "b@example.org" {
		t.Errorf("handled %v, want a and b", users)
	}
	if len(dead) != 1 || string(dead[0].Raw) != future || dead[0].Line != 2 || !strings.Contains(dead[0].Reason, "ahead of this clock") {
		t.Errorf("dead letters %+v, want line 2 with the reason", dead)
	}
}

// A stop while a line is being handled (the handler fails with the
// cancelled context, as a state load from Redis does) is a clean stop: no
// error, and the line is not counted as read, so the next start reads it.
func TestSourceStopWhileHandling(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "in.jsonl")
	line := `{"time":"2026-03-02T08:00:00Z","user":"anna@example.org","ip":"192.0.2.1","outcome":"success","id":"e1"}` + "\n"
	if err := os.WriteFile(log, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Path: log, PositionFile: filepath.Join(dir, "pos"), FromStart: true, Poll: 5 * time.Millisecond}
	format := ingest.Canonical
	ctx, cancel := context.WithCancel(context.Background())
	_, err := (&Source{Config: cfg, Format: format}).Run(ctx, ingest.HandlerFunc(func(ctx context.Context, _ ingest.Event) error {
		cancel()
		return fmt.Errorf("loading detector state: %w", ctx.Err())
	}), nil)
	if err != nil {
		t.Fatalf("a stop while handling a line: %v", err)
	}
	events, _, _ := runSource(t, &Source{Config: cfg, Format: format}, func(events, _ int) bool { return events == 1 })
	if len(events) != 1 || events[0].ID != "e1" {
		t.Fatalf("the line handled when the stop came was not read again: %+v", events)
	}
}
