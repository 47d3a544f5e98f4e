package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// collector is a Handler and DeadLetterSink that remembers what it got.
type collector struct {
	events []Event
	dead   []DeadLetter
}

func (c *collector) Handle(_ context.Context, e Event) error {
	c.events = append(c.events, e)
	return nil
}

func (c *collector) DeadLetter(_ context.Context, d DeadLetter) error {
	c.dead = append(c.dead, d)
	return nil
}

func (c *collector) ids() []string {
	var ids []string
	for _, e := range c.events {
		ids = append(ids, e.ID)
	}
	return ids
}

// idLine is a valid canonical line with the given event id.
func idLine(id string) string { return line("id", `"`+id+`"`) }

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gzipped(t testing.TB, data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// idLines makes n lines with ids prefix0 .. prefix(n-1).
func idLines(prefix string, n int) ([]byte, []string) {
	var b strings.Builder
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s%d", prefix, i)
		ids = append(ids, id)
		b.WriteString(idLine(id) + "\n")
	}
	return []byte(b.String()), ids
}

func TestFilesReadsInputsInOrder(t *testing.T) {
	a, idsA := idLines("a", 50)
	b, idsB := idLines("b", 70)
	c, idsC := idLines("c", 30)
	d, idsD := idLines("d", 40)
	paths := []string{
		writeFile(t, "a.jsonl", a),
		writeFile(t, "b.jsonl.gz", gzipped(t, b)),
		"-",
		writeFile(t, "d.log", gzipped(t, d)), // gzip found by its magic bytes, not its name
	}
	for _, workers := range []int{1, 2, 7} {
		var got collector
		f := &Files{Paths: paths, Stdin: bytes.NewReader(c), Workers: workers, chunkBytes: 300}
		st, err := f.Run(context.Background(), &got, &got)
		if err != nil {
			t.Fatal(err)
		}
		// Every event has the same time: ties go to the input whose first
		// event is older, stdin's unknown first (read from the start),
		// then to the order given.
		want := append(append(append(idsC, idsA...), idsB...), idsD...)
		if fmt.Sprint(got.ids()) != fmt.Sprint(want) {
			t.Fatalf("workers %d: events out of order:\n%v\nwant\n%v", workers, got.ids(), want)
		}
		wantSt := Stats{Files: 4, Lines: 190, Events: 190, Bytes: int64(len(a) + len(b) + len(c) + len(d))}
		if st != wantSt {
			t.Errorf("stats %+v, want %+v", st, wantSt)
		}
	}
}

func TestFilesPlainFileNamedGz(t *testing.T) {
	data, ids := idLines("p", 3)
	var got collector
	_, err := (&Files{Paths: []string{writeFile(t, "plain.gz", data)}}).Run(context.Background(), &got, &got)
	if err != nil || fmt.Sprint(got.ids()) != fmt.Sprint(ids) {
		t.Fatalf("got %v, %v", got.ids(), err)
	}
}

func TestFilesLineEndingsBOMAndBlankLines(t *testing.T) {
	data := "\xef\xbb\xbf" + idLine("1") + "\r\n" + "\r\n" + "   \n" + idLine("2") + "\r\n\n" +
		"\xef\xbb\xbf" + idLine("3") // no final newline
	var got collector
	st, err := (&Files{Paths: []string{"-"}, Stdin: strings.NewReader(data)}).Run(context.Background(), &got, &got)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.ids()) != "[1 2 3]" || len(got.dead) != 0 {
		t.Fatalf("events %v, dead letters %+v", got.ids(), got.dead)
	}
	if want := (Stats{Files: 1, Lines: 6, Events: 3, Blank: 3, Bytes: int64(len(data))}); st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
}

func TestFilesDeadLetters(t *testing.T) {
	data := idLine("1") + "\n" + `{"user":"x"}` + "\n" + "not json\xff\n" + idLine("2") + "\n"
	var got collector
	st, err := (&Files{Paths: []string{writeFile(t, "in.jsonl", []byte(data))}}).Run(context.Background(), &got, &got)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.ids()) != "[1 2]" || len(got.dead) != 2 || st.DeadLetters != 2 || st.Lines != 4 {
		t.Fatalf("events %v, dead %+v, stats %+v", got.ids(), got.dead, st)
	}
	d := got.dead[0]
	if !strings.HasSuffix(d.Source, "in.jsonl") || d.Line != 2 || d.Reason != `field "time": is required` || string(d.Raw) != `{"user":"x"}` {
		t.Errorf("dead letter %+v", d)
	}
	if d := got.dead[1]; d.Line != 3 || string(d.Raw) != "not json\xff" {
		t.Errorf("dead letter %+v", d)
	}
}

func TestFilesOverlongLines(t *testing.T) {
	const maxLine = 300
	huge := `{"user_agent":"` + strings.Repeat("x", 100_000) + `"}`
	just := strings.Repeat("y", maxLine+1)
	data := idLine("1") + "\n" + huge + "\r\n" + idLine("2") + "\n" + just + "\n" +
		strings.Repeat("z", maxLine) + "\n" + idLine("3") + "\n" + huge
	for _, gz := range []bool{false, true} {
		in := []byte(data)
		if gz {
			in = gzipped(t, in)
		}
		var got collector
		f := &Files{Paths: []string{writeFile(t, "in", in)}, MaxLine: maxLine, chunkBytes: 500}
		st, err := f.Run(context.Background(), &got, &got)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got.ids()) != "[1 2 3]" || len(got.dead) != 4 {
			t.Fatalf("events %v, %d dead letters", got.ids(), len(got.dead))
		}
		for i, want := range []struct {
			line int64
			raw  string
		}{{2, huge[:maxLine]}, {4, just[:maxLine]}, {5, ""}, {7, huge[:maxLine]}} {
			d := got.dead[i]
			if want.raw == "" { // exactly maxLine: too long only as JSON
				if d.Line != want.line || strings.Contains(d.Reason, "longer") {
					t.Errorf("dead letter %d: %d %q", i, d.Line, d.Reason)
				}
				continue
			}
			if d.Line != want.line || string(d.Raw) != want.raw ||
				!strings.Contains(d.Reason, "longer than 300 bytes") {
				t.Errorf("dead letter %d: line %d, reason %q, %d raw bytes", i, d.Line, d.Reason, len(d.Raw))
			}
		}
		if !strings.Contains(got.dead[0].Reason, "(100017 bytes)") {
			t.Errorf("reason %q should give the length", got.dead[0].Reason)
		}
		if st.Lines != 7 || st.Bytes != int64(len(data)) {
			t.Errorf("stats %+v", st)
		}
	}
}

// endless is a reader of n bytes of one long line, not held in memory.
type endless struct {
	n     int
	block []byte
}

func (e *endless) Read(p []byte) (int, error) {
	if e.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), e.n, len(e.block))
	copy(p, e.block[:k])
	e.n -= k
	return k, nil
}

func TestFilesOverlongLineMemoryIsBounded(t *testing.T) {
	const size = 128 << 20
	in := io.MultiReader(strings.NewReader(idLine("1")+"\n"), &endless{n: size, block: bytes.Repeat([]byte("x"), 64<<10)}, strings.NewReader("\n"+idLine("2")+"\n"))
	var before, after runtimeMem
	before.read()
	var got collector
	st, err := (&Files{Paths: []string{"-"}, Stdin: in, MaxLine: 64 << 10}).Run(context.Background(), &got, &got)
	after.read()
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.ids()) != "[1 2]" || len(got.dead) != 1 || st.Bytes < size {
		t.Fatalf("events %v, dead %d, stats %+v", got.ids(), len(got.dead), st)
	}
	if alloc := after.totalAlloc - before.totalAlloc; alloc > 16<<20 {
		t.Errorf("reading a %d MiB line allocated %d MiB", size>>20, alloc>>20)
	}
}

type runtimeMem struct{ totalAlloc uint64 }

func (m *runtimeMem) read() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.totalAlloc = ms.TotalAlloc
}
