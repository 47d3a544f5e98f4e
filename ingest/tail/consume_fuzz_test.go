package tail

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// FuzzConsume: the log file's bytes are untrusted. However they
// arrive (in reads of any size), consume hands on the same lines: each
// complete line, cut to MaxLine, without its "\r\n" or "\n"; it keeps at
// most MaxLine bytes of an unfinished line (bounded memory); the offset
// stays at the first byte of the first line not accepted, so that a
// restart after a handler error reads no line twice and skips none; and
// flushPartial hands on the unterminated last line and moves the offset to
// the end.
func FuzzConsume(f *testing.F) {
	f.Add([]byte("a\nbb\r\nccc"), uint8(2), uint8(3), uint8(0))
	f.Add([]byte("0123456789\r\n\r\n\n\rx\r"), uint8(1), uint8(4), uint8(2))
	f.Add([]byte("long line longer than max\nshort\n"), uint8(5), uint8(7), uint8(1))
	f.Add([]byte("\n\n\n"), uint8(0), uint8(0), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, chunk, maxLine, failAt uint8) {
		max := int(maxLine)%32 + 1
		size := int(chunk)%17 + 1

		// The reference: split the whole input at once.
		var want [][]byte
		var starts []int64
		rest := data
		var at int64
		for {
			nl := bytes.IndexByte(rest, '\n')
			if nl < 0 {
				break
			}
			line := rest[:nl]
			if len(line) > max {
				line = line[:max]
			}
			want = append(want, bytes.TrimSuffix(line, []byte{'\r'}))
			starts = append(starts, at)
			at += int64(nl) + 1
			rest = rest[nl+1:]
		}
		complete := at
		tail := rest
		if len(tail) > max {
			tail = tail[:max]
		}

		var got [][]byte
		errStop := errors.New("handler refuses")
		n := 0
		newFollower := func() *follower {
			fo := &follower{cfg: Config{MaxLine: max}}
			fo.handle = func(line []byte) error {
				if len(line) > max {
					t.Fatalf("line of %d bytes handed on, MaxLine %d", len(line), max)
				}
				n++
				if failAt != 0 && n == int(failAt) {
					return errStop
				}
				got = append(got, bytes.Clone(line))
				return nil
			}
			return fo
		}
		feed := func(fo *follower, b []byte) error {
			for len(b) > 0 {
				k := min(size, len(b))
				if err := fo.consume(b[:k]); err != nil {
					return err
				}
				if len(fo.pending) > max {
					t.Fatalf("%d bytes pending, MaxLine %d", len(fo.pending), max)
				}
				b = b[k:]
			}
			return nil
		}

		fo := newFollower()
		err := feed(fo, data)
		if err != nil {
			if !errors.Is(err, errStop) {
				t.Fatal(err)
			}
			// The refused line is line failAt-1 of the reference: the
			// offset must be at its start.
			i := int(failAt) - 1
			if i >= len(starts) || fo.offset != starts[i] {
				t.Fatalf("after refusing line %d the offset is %d; lines start at %v", i, fo.offset, starts)
			}
			// A restart reads from the offset.
			fo = newFollower()
			fo.offset = starts[i]
			if err := feed(fo, data[starts[i]:]); err != nil {
				t.Fatal(err)
			}
		}
		if fo.offset != complete {
			t.Fatalf("offset %d after all complete lines, want %d", fo.offset, complete)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("read in chunks of %d (MaxLine %d, refusing line %d): %q, want %q", size, max, failAt, got, want)
		}
		if fo.carried != int64(len(data))-complete {
			t.Fatalf("carried %d, want %d", fo.carried, int64(len(data))-complete)
		}
		if !bytes.Equal(fo.pending, tail) {
			t.Fatalf("pending %q, want %q", fo.pending, tail)
		}
		before := len(got)
		if err := fo.flushPartial(); err != nil {
			if !errors.Is(err, errStop) {
				t.Fatal(err)
			}
			if fo.offset != complete || !bytes.Equal(fo.pending, tail) {
				t.Fatalf("a refused last line moved the offset to %d (want %d) or lost its bytes: %q", fo.offset, complete, fo.pending)
			}
			return
		}
		if len(rest) > 0 {
			last := bytes.TrimSuffix(tail, []byte{'\r'})
			// The last line is handed on when its kept bytes are not empty.
			if len(tail) > 0 && (len(got) != before+1 || !bytes.Equal(got[before], last)) {
				t.Fatalf("flushPartial handed on %q, want %q", got[before:], last)
			}
		} else if len(got) != before {
			t.Fatalf("flushPartial handed on %q with nothing pending", got[before:])
		}
		if fo.carried != 0 || len(fo.pending) != 0 || fo.skipping {
			t.Fatalf("state left after flushPartial: carried %d, pending %q, skipping %v", fo.carried, fo.pending, fo.skipping)
		}
	})
}
