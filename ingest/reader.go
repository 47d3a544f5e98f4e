package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"go.uber.org/zap"
)

// reader cuts the inputs into chunks, one goroutine, in input order.
type reader struct {
	paths      []string
	stdin      io.Reader
	maxLine    int
	chunkBytes int
	log        *zap.Logger
	formats    []Format
	parse      func([]byte) (Event, error)

	free, work, ordered chan *chunk

	inStdin atomic.Bool  // a Read on stdin is under way
	opened  atomic.Int32 // inputs opened so far

	raw, lines *bufio.Reader
	gz         *gzip.Reader
	cur        *chunk
	st         *stream // the input being read
	inRecord   bool    // inside a quoted field of a CSV row that goes on
}

// run reads every input, then closes work and ordered. A read error is sent
// on, after the lines before it, in a chunk's err.
func (r *reader) run(ctx context.Context) {
	defer close(r.ordered)
	defer close(r.work)
	r.raw = bufio.NewReaderSize(nil, 64<<10)
	r.lines = bufio.NewReaderSize(nil, r.maxLine+2) // room for "\r\n"
	for _, path := range r.paths {
		r.st = nil
		err := r.readPath(ctx, path)
		if ctx.Err() != nil {
			return
		}
		if r.cur == nil && !r.next(ctx, path) {
			return
		}
		r.cur.err, r.cur.last = err, true
		r.send()
		if err != nil {
			return
		}
	}
}

func (r *reader) readPath(ctx context.Context, path string) error {
	if path == "-" {
		r.opened.Add(1)
		if err := r.readLines(ctx, sourceName(path), &stdinReader{ctx: ctx, r: r.stdin, busy: &r.inStdin}); err != nil {
			return fmt.Errorf("reading stdin: %w", err)
		}
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening input: %w", err)
	}
	defer f.Close()
	r.opened.Add(1)
	r.log.Debug("reading input", zap.String("path", path))
	if err := r.readLines(ctx, path, &ctxReader{ctx: ctx, r: f}); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

// readLines cuts one input into chunks; the last one stays in r.cur.
func (r *reader) readLines(ctx context.Context, name string, in io.Reader) error {
	r.st = &stream{parse: r.parse, formats: r.formats, csv: -1}
	r.inRecord = false
	if !r.next(ctx, name) {
		return ctx.Err()
	}
	r.raw.Reset(in)
	var src io.Reader = r.raw
	if magic, _ := r.raw.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		var err error
		if r.gz == nil {
			r.gz, err = gzip.NewReader(r.raw)
		} else {
			err = r.gz.Reset(r.raw)
		}
		if err != nil {
			return err
		}
		src = r.gz
	}
	r.lines.Reset(src)
	lineNo := int64(0)
	for {
		if r.lines.Buffered() == 0 && len(r.cur.spans) > 0 && !r.inRecord {
			// The next read may block (a pipe, a terminal): hand on what
			// is there, so that a live stream is not held back until a
			// chunk fills up.
			r.send()
			if !r.next(ctx, name) {
				return ctx.Err()
			}
		}
		line, err := r.lines.ReadSlice('\n')
		if len(line) > 0 {
			lineNo++
			if len(r.cur.data) >= r.chunkBytes && !r.inRecord {
				r.send()
				if !r.next(ctx, name) {
					return ctx.Err()
				}
			}
			if err == bufio.ErrBufferFull {
				err = r.addLong(line, lineNo)
			} else {
				r.add(line, lineNo)
			}
		}
		switch {
		case err == io.EOF:
			return nil
		case err != nil:
			return err
		}
	}
}

// add appends a line that ends in "\n" or at the end of the input.
func (r *reader) add(line []byte, lineNo int64) {
	c := r.cur
	c.bytes += int64(len(line))
	content := bytes.TrimSuffix(line, []byte("\n"))
	header := !r.st.started && r.st.start(content)
	if r.inRecord {
		r.continueRecord(content)
		return
	}
	if r.st.csv >= 0 && !header && oddQuotes(content) {
		r.inRecord = true
	}
	if n := len(bytes.TrimSuffix(content, []byte("\r"))); n > r.maxLine {
		start := len(c.data)
		c.data = append(c.data, truncateUTF8(content, r.rawPrefix())...)
		c.spans = append(c.spans, span{start: start, end: len(c.data), line: lineNo, long: int64(n)})
		r.inRecord = false
		return
	}
	start := len(c.data)
	c.data = append(c.data, content...)
	c.spans = append(c.spans, span{start: start, end: len(c.data), line: lineNo, header: header})
}

// continueRecord adds the next line of a CSV row whose quoted field goes
// on. A row that grows over maxLine ends there and is dead-lettered, so
// that a stray quote costs one row and not the rest of the file.
func (r *reader) continueRecord(content []byte) {
	c := r.cur
	sp := &c.spans[len(c.spans)-1]
	if oddQuotes(content) {
		r.inRecord = false
	}
	size := int64(sp.end-sp.start) + 1 + int64(len(content))
	if sp.long > 0 {
		size = sp.long + 1 + int64(len(content))
	}
	if size <= int64(r.maxLine) {
		c.data = append(append(c.data, '\n'), content...)
		sp.end = len(c.data)
		return
	}
	if sp.long == 0 {
		// Keep what a dead letter keeps of an over-long line.
		sp.end = sp.start + len(truncateUTF8(c.data[sp.start:sp.end], r.rawPrefix()))
		c.data = c.data[:sp.end]
	}
	sp.long = size
	r.inRecord = false
}

func oddQuotes(b []byte) bool { return bytes.Count(b, []byte{'"'})%2 == 1 }

// addLong records a line that does not fit the line buffer and skips the
// rest of it, keeping only its first bytes.
func (r *reader) addLong(first []byte, lineNo int64) error {
	c := r.cur
	if !r.st.started {
		r.st.started = true // an over-long line is no CSV header
	}
	if r.inRecord {
		// The row ends here; the rest of this line is a record of its own.
		r.inRecord = false
		sp := &c.spans[len(c.spans)-1]
		sp.long = max(sp.long, int64(sp.end-sp.start)) + int64(len(first))
	}
	start := len(c.data)
	c.data = append(c.data, truncateUTF8(first, r.rawPrefix())...)
	size := int64(len(first))
	last := first[len(first)-1]
	var err error
	for {
		var more []byte
		more, err = r.lines.ReadSlice('\n')
		size += int64(len(more))
		if len(more) > 0 {
			if err == nil && len(more) > 1 {
				last = more[len(more)-2]
			}
			if err != nil {
				last = more[len(more)-1]
			}
		}
		if err != bufio.ErrBufferFull {
			break
		}
	}
	c.bytes += size
	length := size // without the line ending
	if err == nil {
		length--
		if last == '\r' {
			length--
		}
	}
	c.spans = append(c.spans, span{start: start, end: len(c.data), line: lineNo, long: length})
	if err == io.EOF {
		err = nil
	}
	return err
}

// rawPrefix is how much of an over-long line a dead letter keeps.
func (r *reader) rawPrefix() int { return min(deadLetterPrefix, r.maxLine) }

// next takes a free chunk for the next lines of name.
func (r *reader) next(ctx context.Context, name string) bool {
	select {
	case c := <-r.free:
		c.source, c.st, c.last, c.maxLine, c.bytes = name, r.st, false, r.maxLine, 0
		c.data, c.spans, c.err = c.data[:0], c.spans[:0], nil
		r.cur = c
		return true
	case <-ctx.Done():
		return false
	}
}

// send passes r.cur to delivery and to the workers. Neither send blocks:
// both channels can hold every chunk there is.
func (r *reader) send() {
	c := r.cur
	r.cur = nil
	r.ordered <- c
	r.work <- c
}
