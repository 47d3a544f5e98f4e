package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// A live pipe among merged inputs is not held back: its records are handed
// on at the end of each chunk, as the pipe goes quiet.
func TestMergeLiveStdinNotHeldBack(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	pf := writeFile(t, "old.jsonl", []byte(timedLines("f", 3, t0, time.Second, 0)))
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte(timedLines("s", 3, t0.Add(time.Hour), time.Second, 0))) // then the pipe stays open
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	n := 0
	all := make(chan struct{})
	h := HandlerFunc(func(context.Context, Event) error {
		mu.Lock()
		defer mu.Unlock()
		if n++; n == 6 {
			close(all)
		}
		return nil
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		(&Files{Paths: []string{pf, "-"}, Stdin: pr}).Run(ctx, h, nil)
	}()
	select {
	case <-all:
	case <-time.After(3 * time.Second):
		mu.Lock()
		got := n
		mu.Unlock()
		t.Errorf("after 3s only %d of the 6 events read (3 from the file, 3 from the live pipe) were handed on", got)
	}
	cancel()
	<-done
}

// slowReader serves its data in small pieces, slowly, safe for concurrent
// use, as a pipe does.
type slowReader struct {
	mu   sync.Mutex
	data []byte
}

func (s *slowReader) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	time.Sleep(20 * time.Microsecond)
	n := copy(p[:min(len(p), 512)], s.data)
	s.data = s.data[n:]
	return n, nil
}

// "-" given twice is stdin once: two readers of one stream would cut each
// other's lines.
func TestMergeStdinTwice(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	in := timedLines("s", 2000, t0, time.Second, 0)
	var got collector
	st, err := (&Files{Paths: []string{"-", "-"}, Stdin: &slowReader{data: []byte(in)}}).Run(context.Background(), &got, &got)
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 2000 || st.DeadLetters != 0 {
		t.Errorf("stdin given twice: %d events and %d dead letters, want the 2000 events once and no dead letters (stats %+v)",
			st.Events, st.DeadLetters, st)
	}
}

// A handler that fails because the run was cancelled ends a merged run
// without an error, as one input does.
func TestMergeCancelledHandlerErrorIsNil(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	pa := writeFile(t, "a.jsonl", []byte(timedLines("a", 100, t0, time.Second, 0)))
	pb := writeFile(t, "b.jsonl", []byte(timedLines("b", 100, t0, time.Second, 0)))
	for _, paths := range [][]string{{pa}, {pa, pb}} {
		ctx, cancel := context.WithCancel(context.Background())
		n := 0
		h := HandlerFunc(func(ctx context.Context, _ Event) error {
			if n++; n == 5 {
				cancel()
				return ctx.Err()
			}
			return nil
		})
		_, err := (&Files{Paths: paths}).Run(ctx, h, nil)
		cancel()
		if err != nil {
			t.Errorf("%d inputs: a run cancelled while the handler stopped returned %v; want nil", len(paths), err)
		}
	}
}

// A handler's error in a merged run names the input and line.
func TestMergeHandlerErrorNamesLine(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	pa := writeFile(t, "a.jsonl", []byte(timedLines("a", 500, t0, time.Second, 0)))
	pb := writeFile(t, "b.jsonl", []byte(timedLines("b", 500, t0, time.Second, 0)))
	boom := errors.New("boom")
	h := HandlerFunc(func(_ context.Context, e Event) error {
		if e.ID == "b100" {
			return boom
		}
		return nil
	})
	for _, paths := range [][]string{{pb}, {pa, pb}} {
		_, err := (&Files{Paths: paths}).Run(context.Background(), h, nil)
		if want := fmt.Sprintf("%s:101:", pb); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%d inputs: error %v; want it to name %s", len(paths), err, want)
		}
	}
}

// Cancelling while the merge waits for an input's first records reads no
// field the input's goroutine may still write (run with -race).
func TestMergeCancelWhileWaiting(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	pa := writeFile(t, "a.jsonl", []byte(timedLines("a", 10, t0, time.Second, 0)))
	for range 20 {
		pr, pw := io.Pipe()
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(5 * time.Millisecond); cancel() }()
		_, err := (&Files{Paths: []string{"-", pa}, Stdin: pr}).Run(ctx, HandlerFunc(func(context.Context, Event) error { return nil }), nil)
		if err != nil {
			t.Fatal(err)
		}
		pw.Close()
	}
}

// Many inputs are not all read at once: an input is started when the merge
// reaches its first event's time, so memory follows the inputs that
// overlap, not all of them.
func TestMergeMemoryPerInput(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	const inputs = 100
	paths := make([]string, inputs)
	for i := range paths {
		paths[i] = writeFile(t, fmt.Sprintf("in%03d.jsonl", i), []byte(timedLines(fmt.Sprintf("f%d-", i), 8*mergeBatch, t0.Add(time.Duration(i)*time.Minute), time.Second, 0)))
	}
	var peak uint64
	h := HandlerFunc(func(context.Context, Event) error {
		if peak == 0 {
			runtime.GC() // what is live: every input is still open, waiting
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = m.HeapAlloc
		}
		return nil
	})
	st, err := (&Files{Paths: paths, Workers: 1}).Run(context.Background(), h, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 8*mergeBatch*inputs {
		t.Fatalf("stats %+v", st)
	}
	if peak > 64<<20 {
		t.Errorf("merging %d small inputs kept %d MiB live on the heap at the first event", inputs, peak>>20)
	}
}
