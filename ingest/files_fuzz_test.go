package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// transcript records, in order, what a Files run delivered.
type transcript struct{ entries []string }

func (tr *transcript) Handle(_ context.Context, e Event) error {
	tr.entries = append(tr.entries, "event "+e.ID)
	return nil
}

func (tr *transcript) DeadLetter(_ context.Context, d DeadLetter) error {
	kind := "bad"
	if strings.HasPrefix(d.Reason, "line is longer") {
		kind = "long"
	}
	tr.entries = append(tr.entries, fmt.Sprintf("%s %d %q", kind, d.Line, d.Raw))
	return nil
}

// FuzzFilesLines checks the line reader against a plain split on "\n": the
// same lines in the same order with the same numbers, for any input, line
// limit and chunk size, compressed or not, without panics.
func FuzzFilesLines(f *testing.F) {
	f.Add([]byte("a\nb\r\n\n  \n\xef\xbb\xbfc\n!bad\nlast"), false, uint8(8), uint8(16))
	f.Add([]byte(strings.Repeat("x", 100)+"\r\n"+strings.Repeat("y", 40)+"\nz"), true, uint8(10), uint8(1))
	f.Add([]byte("\n\n\r\n\t\n"), false, uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, gz bool, maxLine, chunk uint8) {
		ml := int(maxLine)%64 + 1
		parse := func(l []byte) (Event, error) {
			if l[0] == '!' {
				return Event{}, errors.New("bad")
			}
			return Event{ID: string(l)}, nil
		}
		in := data
		if gz {
			in = gzipped(t, data)
		}
		var got transcript
		files := &Files{Paths: []string{"-"}, Stdin: bytes.NewReader(in), Parse: parse, MaxLine: ml,
			Workers: 2, chunkBytes: int(chunk) + 1}
		st, err := files.Run(context.Background(), &got, &got)
		if err != nil {
			t.Fatal(err)
		}

		var want transcript
		wantSt := Stats{Files: 1, Bytes: int64(len(data))}
		segs := bytes.Split(data, []byte("\n"))
		if len(segs[len(segs)-1]) == 0 {
			segs = segs[:len(segs)-1]
		}
		for i, seg := range segs {
			n := int64(i + 1)
			wantSt.Lines++
			content := bytes.TrimSuffix(seg, []byte("\r"))
			if len(content) > ml {
				want.entries = append(want.entries, fmt.Sprintf("long %d %q", n, truncateUTF8(seg, min(ml, deadLetterPrefix))))
				wantSt.DeadLetters++
				continue
			}
			l := bytes.TrimPrefix(content, []byte("\xef\xbb\xbf"))
			switch {
			case len(bytes.Trim(l, " \t")) == 0:
				wantSt.Blank++
			case l[0] == '!':
				want.entries = append(want.entries, fmt.Sprintf("bad %d %q", n, l))
				wantSt.DeadLetters++
			default:
				want.entries = append(want.entries, "event "+string(l))
				wantSt.Events++
			}
		}
		if fmt.Sprint(got.entries) != fmt.Sprint(want.entries) {
			t.Fatalf("got\n%q\nwant\n%q", got.entries, want.entries)
		}
		if st != wantSt {
			t.Fatalf("stats %+v, want %+v", st, wantSt)
		}
	})
}
