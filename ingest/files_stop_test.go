package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Tests of how a run ends early: broken inputs, failing handlers, cancel.

func TestFilesCorruptGzip(t *testing.T) {
	data, ids := idLines("g", 2000)
	gz := gzipped(t, data)
	flipped := bytes.Clone(gz)
	flipped[len(flipped)/2] ^= 0xff
	for name, in := range map[string][]byte{
		"truncated.gz": gz[:len(gz)*3/4],
		"flipped.gz":   flipped,
		"header.gz":    []byte("\x1f\x8bnot really gzip"),
	} {
		t.Run(name, func(t *testing.T) {
			good, _ := idLines("ok", 5)
			later, _ := idLines("later", 5)
			path := writeFile(t, name, in)
			var got collector
			f := &Files{Paths: []string{writeFile(t, "good", good), path, writeFile(t, "later", later)}}
			_, err := f.Run(context.Background(), &got, &got)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %v should name %s", err, path)
			}
			// Inputs are merged by event time, ties in the order of
			// Paths (every line here has one time): the good input's
			// events first, then the broken one's up to its failure.
			var broken []string
			for _, id := range got.ids() {
				if strings.HasPrefix(id, "g") {
					broken = append(broken, id)
				}
			}
			n := len(broken)
			// A flipped byte can decode to damaged lines before the gzip
			// checksum catches it; only a cut stream is clean up to the cut.
			if name == "truncated.gz" && fmt.Sprint(broken) != fmt.Sprint(ids[:n]) {
				t.Fatalf("events before the damage not delivered in order")
			}
			if name == "truncated.gz" && n < 1000 {
				t.Errorf("only %d events before the cut", n)
			}
			if name != "flipped.gz" { // damaged lines can carry a later time
				for _, e := range got.events {
					if strings.HasPrefix(e.ID, "later") {
						t.Errorf("read past the broken input")
					}
				}
			}
		})
	}
}

func TestFilesMissingFile(t *testing.T) {
	good, _ := idLines("ok", 3)
	missing := filepath.Join(t.TempDir(), "missing.jsonl")
	var got collector
	st, err := (&Files{Paths: []string{writeFile(t, "good", good), missing}}).Run(context.Background(), &got, &got)
	// Every input is opened at the start, so a missing one stops the run
	// before any event is handed on.
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) || len(got.events) != 0 || st.Files != 0 {
		t.Fatalf("err %v, %d events, stats %+v", err, len(got.events), st)
	}
	if _, err := (&Files{}).Run(context.Background(), &got, &got); err == nil {
		t.Error("no paths: want an error")
	}
}

func TestFilesHandlerError(t *testing.T) {
	data, _ := idLines("h", 1000)
	path := writeFile(t, "in.jsonl", data)
	boom := errors.New("boom")
	n := 0
	h := HandlerFunc(func(context.Context, Event) error {
		if n++; n == 600 {
			return boom
		}
		return nil
	})
	st, err := (&Files{Paths: []string{path}, chunkBytes: 1000}).Run(context.Background(), h, nil)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), path+":600:") {
		t.Fatalf("error %v: want boom at %s:600", err, path)
	}
	if st.Events != 599 || n != 600 {
		t.Errorf("stats %+v after %d calls", st, n)
	}
}

func TestFilesDeadLetterSinkError(t *testing.T) {
	full := errors.New("disk full")
	sink := deadLetterFunc(func(context.Context, DeadLetter) error { return full })
	_, err := (&Files{Paths: []string{"-"}, Stdin: strings.NewReader(idLine("1") + "\nbad\n")}).
		Run(context.Background(), HandlerFunc(func(context.Context, Event) error { return nil }), sink)
	if !errors.Is(err, full) || !strings.Contains(err.Error(), "stdin:2") {
		t.Fatalf("error %v", err)
	}
}

func TestFilesCancel(t *testing.T) {
	data, _ := idLines("c", 5000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	h := HandlerFunc(func(ctx context.Context, e Event) error {
		if n++; n == 100 {
			cancel()
		}
		return ctx.Err() // a handler that notices the cancellation
	})
	st, err := (&Files{Paths: []string{writeFile(t, "in", data)}, chunkBytes: 2000}).Run(ctx, h, nil)
	if err != nil {
		t.Fatalf("cancel: want nil error, got %v", err)
	}
	if st.Events >= 5000 || n > 200 {
		t.Errorf("did not stop promptly: %d calls, stats %+v", n, st)
	}
}

func TestFilesCancelWhileStdinBlocks(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var got collector
	var mu sync.Mutex
	h := HandlerFunc(func(ctx context.Context, e Event) error {
		mu.Lock()
		defer mu.Unlock()
		return got.Handle(ctx, e)
	})
	done := make(chan error, 1)
	go func() {
		_, err := (&Files{Paths: []string{"-"}, Stdin: pr}).Run(ctx, h, nil)
		done <- err
	}()
	if _, err := io.WriteString(pw, idLine("1")+"\n"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		mu.Lock()
		n := len(got.events)
		mu.Unlock()
		if n == 1 {
			break // a live stream is not held back until a chunk fills
		}
		if time.Now().After(deadline) {
			t.Fatal("the first line of a blocked stdin was not delivered")
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel while stdin blocked")
	}
}
