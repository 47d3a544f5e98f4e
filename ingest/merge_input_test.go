package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A named pipe among merged inputs is read once, from the start: reading
// it for its first event would lose what that read took.
func TestMergeFIFOReadOnce(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	other := writeFile(t, "other.jsonl", []byte(timedLines("f", 3, t0.Add(time.Hour), time.Second, 0)))
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		w.Write([]byte(timedLines("p", 5, t0, time.Second, 0)))
		w.Close()
	}()
	var got collector
	done := make(chan error, 1)
	go func() {
		_, err := (&Files{Paths: []string{fifo, other}, Workers: 1}).Run(context.Background(), &got, &got)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
		if len(got.events) != 8 {
			t.Fatalf("got %d events, want 8 (5 from the pipe, 3 from the file): %v", len(got.events), got.ids())
		}
	case <-time.After(3 * time.Second):
		// Unblock the second open of the pipe so the goroutine can end.
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		<-done
		t.Fatalf("replay of a named pipe and a file hung: the pipe was opened a second time after firstTime drained it; got %d events, want 8", len(got.events))
	}
}

// An input that fails before its first event still hands on its dead
// letters, and the run ends with its error after them.
func TestMergeUnreadableInputKeepsDeadLetters(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write([]byte("garbage 1\ngarbage 2\ngarbage 3\n"))
	zw.Close()
	damaged := writeFile(t, "damaged.gz", zb.Bytes()[:zb.Len()-8]) // trailer cut off
	good := writeFile(t, "good.jsonl", []byte(timedLines("g", 3, t0, time.Second, 0)))

	var alone collector
	if _, err := (&Files{Paths: []string{damaged}}).Run(context.Background(), &alone, &alone); err == nil {
		t.Fatal("control: the damaged input read alone gave no error")
	}
	if len(alone.dead) != 3 {
		t.Fatalf("control: read alone, the damaged input gave %d dead letters, want 3", len(alone.dead))
	}

	var got collector
	_, err := (&Files{Paths: []string{damaged, good}}).Run(context.Background(), &got, &got)
	if err == nil {
		t.Fatal("the damaged input's error was lost")
	}
	if len(got.dead) != 3 {
		t.Errorf("merged: %d dead letters of the damaged input handed on before its error, want 3 (as when it is read alone); err %v", len(got.dead), err)
	}
}

// The records of the chunk that ends in a read error are handed on
// before the error, as one input does.
func TestMergeRecordsBeforeReadError(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write([]byte(timedLines("z", 200, t0, time.Second, 0)))
	zw.Close()
	damaged := writeFile(t, "damaged.gz", zb.Bytes()[:zb.Len()/2]) // cut in the middle, as a copy that was interrupted
	good := writeFile(t, "good.jsonl", []byte(timedLines("g", 3, t0.Add(time.Hour), time.Second, 0)))

	var alone collector
	if _, err := (&Files{Paths: []string{damaged}}).Run(context.Background(), &alone, &alone); err == nil {
		t.Fatal("control: the damaged input read alone gave no error")
	}
	if len(alone.events) == 0 {
		t.Fatal("control: read alone, no events before the error")
	}

	var got collector
	_, err := (&Files{Paths: []string{damaged, good}}).Run(context.Background(), &got, &got)
	if err == nil {
		t.Fatal("the damaged input's error was lost")
	}
	if len(got.events) != len(alone.events) || len(got.dead) != len(alone.dead) {
		t.Errorf("merged: %d events and %d dead letters handed on before the damaged input's error, want %d and %d (as when read alone); err %v",
			len(got.events), len(got.dead), len(alone.events), len(alone.dead), err)
	}
}
