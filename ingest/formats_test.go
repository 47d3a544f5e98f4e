package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// prefixFormat is a toy stateless format: records "NAME:id" become an event
// with that id; "NAME:skip" is skipped and "NAME:bad" refused.
func prefixFormat(name string) Format {
	return Format{
		Name:      name,
		Sniff:     func(rec []byte) bool { return bytes.HasPrefix(rec, []byte(name+":")) },
		New:       func() Decoder { return prefixDecoder(name) },
		Stateless: true,
	}
}

type prefixDecoder string

func (p prefixDecoder) Decode(rec []byte, emit func(Event)) error {
	id, ok := bytes.CutPrefix(rec, []byte(string(p)+":"))
	switch {
	case !ok:
		return fmt.Errorf("not %s", string(p))
	case string(id) == "skip":
		return fmt.Errorf("%w: skip", ErrSkip)
	case string(id) == "bad":
		return errors.New("bad " + string(p))
	}
	emit(Event{ID: string(p) + "/" + string(id)})
	return nil
}

func (prefixDecoder) Flush(func(Event)) {}

// storyFormat is a toy stateful format: "S:id" records are held and emitted
// together at "S:end" or at the end of the input.
func storyFormat() Format {
	return Format{
		Name:  "story",
		Sniff: func(rec []byte) bool { return bytes.HasPrefix(rec, []byte("S:")) },
		New:   func() Decoder { return &storyDecoder{} },
	}
}

type storyDecoder struct{ held []string }

func (s *storyDecoder) Decode(rec []byte, emit func(Event)) error {
	id := string(bytes.TrimPrefix(rec, []byte("S:")))
	if id != "end" {
		s.held = append(s.held, id)
		return nil
	}
	s.Flush(emit)
	return nil
}

func (s *storyDecoder) Flush(emit func(Event)) {
	for _, id := range s.held {
		emit(Event{ID: "story/" + id})
	}
	s.held = nil
}

// csvFormat is a toy CSV format with the header "id,note": each row's
// event id is its id column.
func csvFormat() Format {
	return Format{
		Name:        "csv",
		SniffHeader: func(h []byte) bool { return string(h) == "id,note" },
		NewCSV: func(h []byte) (Decoder, error) {
			return csvRows{}, nil
		},
		Stateless: true,
	}
}

type csvRows struct{}

func (csvRows) Decode(rec []byte, emit func(Event)) error {
	f, err := SplitCSV(rec)
	if err != nil {
		return err
	}
	emit(Event{ID: "csv/" + strings.Join(f, "|")})
	return nil
}

func (csvRows) Flush(func(Event)) {}

func runFormats(t *testing.T, formats []Format, chunk int, inputs ...string) (*transcript, Stats) {
	t.Helper()
	var paths []string
	for i, in := range inputs {
		paths = append(paths, writeFile(t, fmt.Sprintf("in%d", i), []byte(in)))
	}
	var tr transcript
	f := &Files{Paths: paths, Formats: formats, Workers: 3, chunkBytes: chunk}
	st, err := f.Run(context.Background(), &tr, &tr)
	if err != nil {
		t.Fatal(err)
	}
	return &tr, st
}

func TestFilesDetectsEachRecord(t *testing.T) {
	formats := []Format{prefixFormat("A"), prefixFormat("B"), storyFormat(), prefixFormat("Z")}
	in := "A:1\nS:s1\nB:2\nS:s2\nA:skip\nS:end\nmystery\nB:bad\n\nS:s3\nA:3\n"
	for _, chunk := range []int{1, 7, 1000} {
		tr, st := runFormats(t, formats, chunk, in, "S:t1\nA:4\n")
		want := []string{"event A/1", "event B/2", "event story/s1", "event story/s2", `bad 7 "mystery"`, `bad 8 "B:bad"`,
			"event A/3", "event story/s3", "event A/4", "event story/t1"}
		if fmt.Sprint(tr.entries) != fmt.Sprint(want) {
			t.Errorf("chunk %d:\ngot  %q\nwant %q", chunk, tr.entries, want)
		}
		if st.Lines != 13 || st.Events != 8 || st.Skipped != 1 || st.Blank != 1 || st.DeadLetters != 2 {
			t.Errorf("chunk %d: stats %+v", chunk, st)
		}
	}
}

func TestFilesReadsCSVByHeader(t *testing.T) {
	formats := []Format{csvFormat(), prefixFormat("A")}
	csvIn := "\xef\xbb\xbfid,note\r\n1,plain\r\n2,\"two\r\nlines\"\r\n\r\n3,\"quote \"\"x\"\"\"\r\n4,\"a\n\n\"\"b\"\"\nc\"\n\"5,unclosed\n6,x"
	for _, chunk := range []int{1, 5, 1000} {
		tr, st := runFormats(t, formats, chunk, csvIn, "A:1\nid,note\n")
		want := []string{"event csv/1|plain", "event csv/2|two\nlines", `event csv/3|quote "x"`, "event csv/4|a\n\n\"b\"\nc",
			`bad 11 "\"5,unclosed\n6,x"`, "event A/1", `bad 2 "id,note"`}
		if fmt.Sprint(tr.entries) != fmt.Sprint(want) {
			t.Errorf("chunk %d:\ngot  %q\nwant %q", chunk, tr.entries, want)
		}
		if st.Skipped != 1 || st.Blank != 1 || st.Events != 5 {
			t.Errorf("chunk %d: stats %+v", chunk, st)
		}
	}
}

// A row that runs over MaxLine ends there: the rest of its lines are rows
// of their own, so a stray quote costs rows, not the file.
func TestFilesCSVRowOverMaxLine(t *testing.T) {
	in := "id,note\n\"1,\n" + strings.Repeat("x\n", 10) + "2,ok\n"
	var tr transcript
	f := &Files{Paths: []string{writeFile(t, "in", []byte(in))}, Formats: []Format{csvFormat()}, MaxLine: 12, chunkBytes: 8}
	if _, err := f.Run(context.Background(), &tr, &tr); err != nil {
		t.Fatal(err)
	}
	if len(tr.entries) < 2 || tr.entries[0] != `long 2 "\"1,\nx\nx\nx\nx"` || tr.entries[len(tr.entries)-1] != "event csv/2|ok" {
		t.Errorf("got %q", tr.entries)
	}
}

func TestFilesCSVHeaderRefused(t *testing.T) {
	f := csvFormat()
	f.NewCSV = func([]byte) (Decoder, error) { return nil, errors.New("no id column") }
	tr, st := runFormats(t, []Format{f}, 1000, "id,note\n1,a\n")
	if st.DeadLetters != 1 || !strings.Contains(fmt.Sprint(tr.entries), `bad 2 "1,a"`) {
		t.Errorf("got %q, %+v", tr.entries, st)
	}
	// A CSV-only format cannot read a file without its header.
	tr, _ = runFormats(t, []Format{csvFormat()}, 1000, "1,a\n")
	if fmt.Sprint(tr.entries) != `[bad 1 "1,a"]` {
		t.Errorf("got %q", tr.entries)
	}
}

// envelopeFormat emits one event per comma-separated part and refuses the
// parts that say "bad".
type envelopeDecoder struct{}

func (envelopeDecoder) Decode(rec []byte, emit func(Event)) error {
	var bad PartErrors
	for _, p := range bytes.Split(rec, []byte(",")) {
		if string(p) == "bad" {
			bad = append(bad, PartError{Raw: p, Err: errors.New("bad part")})
			continue
		}
		emit(Event{ID: string(p)})
	}
	if bad != nil {
		return bad
	}
	return nil
}

func (envelopeDecoder) Flush(func(Event)) {}

func TestFilesDeadLettersEnvelopeParts(t *testing.T) {
	f := Format{Name: "env", New: func() Decoder { return envelopeDecoder{} }, Stateless: true}
	var got collector
	files := &Files{Paths: []string{writeFile(t, "in", []byte("a,bad,b,bad\nc\n"))}, Formats: []Format{f}}
	st, err := files.Run(context.Background(), &got, &got)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.ids()) != "[a b c]" || len(got.dead) != 2 || string(got.dead[1].Raw) != "bad" || got.dead[0].Line != 1 {
		t.Errorf("events %v, dead %+v", got.ids(), got.dead)
	}
	if st.Lines != 2 || st.Events != 3 || st.DeadLetters != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestAutoDecoder(t *testing.T) {
	dec, err := NewAutoDecoder([]Format{prefixFormat("A"), storyFormat(), prefixFormat("Z")})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	emit := func(e Event) { ids = append(ids, e.ID) }
	for _, rec := range []string{"A:1", "S:x", "Z:2", "S:y"} {
		if err := dec.Decode([]byte(rec), emit); err != nil {
			t.Fatal(err)
		}
	}
	if err := dec.Decode([]byte("neither"), emit); err == nil || err.Error() != "not Z" {
		t.Errorf("undetected record: %v", err)
	}
	dec.Flush(emit)
	if fmt.Sprint(ids) != "[A/1 Z/2 story/x story/y]" {
		t.Errorf("got %v", ids)
	}
	if _, err := NewAutoDecoder([]Format{csvFormat()}); err == nil {
		t.Error("a CSV-only format has no record decoder")
	}
}

// FuzzFilesCSV reads arbitrary CSV bodies, in small chunks, with a small
// line limit: no panic, and every record is accounted for once.
func FuzzFilesCSV(f *testing.F) {
	f.Add([]byte("1,a\n2,\"b\nc\"\n\n\"3,x\n4,y\n"), uint8(3), uint8(40))
	f.Add([]byte("\"\"\"\n\"\n,\r\n\"a\"\"b\",\"\n\n\""), uint8(1), uint8(8))
	f.Fuzz(func(t *testing.T, body []byte, chunk, maxLine uint8) {
		in := append([]byte("id,note\n"), body...)
		var tr transcript
		files := &Files{Paths: []string{"-"}, Stdin: bytes.NewReader(in), Formats: []Format{csvFormat(), prefixFormat("A")},
			MaxLine: int(maxLine)%64 + 8, Workers: 2, chunkBytes: int(chunk) + 1}
		st, err := files.Run(context.Background(), &tr, &tr)
		if err != nil {
			t.Fatal(err)
		}
		if st.Lines != st.Events+st.Blank+st.Skipped+st.DeadLetters || st.Skipped != 1 || st.Bytes != int64(len(in)) {
			t.Fatalf("stats %+v", st)
		}
		if int64(len(tr.entries)) != st.Events+st.DeadLetters {
			t.Fatalf("%d entries, stats %+v", len(tr.entries), st)
		}
	})
}
