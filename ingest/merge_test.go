package ingest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// timedLines makes n lines with ids prefix0.. at start, start+step, ...,
// with a line that is no JSON after every badEvery-th (0: none).
func timedLines(prefix string, n int, start time.Time, step time.Duration, badEvery int) string {
	var b strings.Builder
	for i := range n {
		at := start.Add(time.Duration(i) * step).UTC().Format(time.RFC3339Nano)
		b.WriteString(line("id", fmt.Sprintf("%q", fmt.Sprintf("%s%d", prefix, i)), "time", fmt.Sprintf("%q", at)) + "\n")
		if badEvery > 0 && i%badEvery == badEvery-1 {
			fmt.Fprintf(&b, "%s bad %d\n", prefix, i)
		}
	}
	return b.String()
}

// Several inputs come out as one stream in event-time order, ties in the
// order of Paths, whatever the number of workers; dead letters come out at
// one place in that order, so two runs write the same output.
func TestFilesMergeByTime(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	// b's events fall between a's; c starts with a's first time (a tie)
	// and is given last; stdin holds later events.
	a := timedLines("a", 300, t0, 2*time.Second, 0)
	b := timedLines("b", 300, t0.Add(time.Second), 2*time.Second, 50)
	c := timedLines("c", 3, t0, time.Hour, 0)
	paths := []string{writeFile(t, "c.jsonl", []byte(c)), writeFile(t, "a.jsonl.gz", gzipped(t, []byte(a))), "-",
		writeFile(t, "b.jsonl", []byte(b))}
	in := timedLines("s", 10, t0.Add(3*time.Hour), time.Minute, 0)
	var first []string
	for _, workers := range []int{1, 2, 7} {
		var got collector
		f := &Files{Paths: paths, Stdin: strings.NewReader(in), Workers: workers, chunkBytes: 500}
		st, err := f.Run(context.Background(), &got, &got)
		if err != nil {
			t.Fatal(err)
		}
		if st.Files != 4 || st.Events != 613 || st.DeadLetters != 6 || st.Lines != 619 {
			t.Errorf("workers %d: stats %+v", workers, st)
		}
		if !slices.IsSortedFunc(got.events, func(x, y Event) int { return x.Time.Compare(y.Time) }) {
			t.Errorf("workers %d: events not in time order", workers)
		}
		ids := got.ids()
		if ids[0] != "c0" || ids[1] != "a0" || ids[2] != "b0" {
			t.Errorf("workers %d: first events %v; want c0 (a tie with a0, given first), a0, b0", workers, ids[:3])
		}
		var out []string
		for _, d := range got.dead {
			out = append(out, fmt.Sprintf("%s:%d", d.Source[strings.LastIndex(d.Source, "/")+1:], d.Line))
		}
		out = append(out, ids...)
		if first == nil {
			first = out
		} else if !slices.Equal(out, first) {
			t.Errorf("workers %d: output differs from the first run", workers)
		}
	}
}

// A handler's error ends a merged run and names the input.
func TestFilesMergeHandlerError(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	pa := writeFile(t, "a.jsonl", []byte(timedLines("a", 500, t0, time.Second, 0)))
	pb := writeFile(t, "b.jsonl", []byte(timedLines("b", 500, t0, time.Second, 0)))
	boom := errors.New("boom")
	n := 0
	h := HandlerFunc(func(_ context.Context, e Event) error {
		if n++; e.ID == "b100" {
			return boom
		}
		return nil
	})
	_, err := (&Files{Paths: []string{pa, pb}}).Run(context.Background(), h, nil)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), pb) {
		t.Fatalf("error %v; want boom naming %s", err, pb)
	}
	if n != 202 { // a0 b0 a1 b1 ... a100 b100
		t.Errorf("%d events handled before the error, want 202", n)
	}
}
