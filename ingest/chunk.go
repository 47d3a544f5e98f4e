package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// chunk is a run of whole lines of one input, the unit of parallel parsing.
// The reader fills data and spans, a worker fills results, and delivery
// hands them on and returns the chunk to the reader.
type chunk struct {
	source    string
	firstLine int64
	maxLine   int
	bytes     int64 // input bytes covered, line endings included
	data      []byte
	spans     []span
	results   []result
	err       error // a read error that ends the input after these lines
	done      chan struct{}
}

// span locates one line in chunk.data, without its "\n".
type span struct {
	start, end int
	// long is the length of a line over maxLine, whose first bytes only
	// are in data; 0 otherwise.
	long int64
}

type result struct {
	event  Event
	reason string // why the line is a dead letter; "" if it is not
	raw    []byte
	blank  bool
}

// parse fills c.results from c.spans.
func (c *chunk) parse(parse func([]byte) (Event, error)) {
	if cap(c.results) < len(c.spans) {
		c.results = make([]result, len(c.spans))
	}
	c.results = c.results[:len(c.spans)]
	for i, sp := range c.spans {
		res := &c.results[i]
		*res = result{}
		line := c.data[sp.start:sp.end]
		if sp.long > 0 {
			res.reason = fmt.Sprintf("line is longer than %d bytes (%d bytes); raw holds its first %d bytes", c.maxLine, sp.long, len(line))
			res.raw = bytes.Clone(line)
			continue
		}
		line = bytes.TrimPrefix(bytes.TrimSuffix(line, []byte("\r")), []byte("\xef\xbb\xbf"))
		if isBlank(line) {
			res.blank = true
			continue
		}
		ev, err := parse(line)
		if err != nil {
			res.reason = err.Error()
			res.raw = bytes.Clone(line)
			continue
		}
		res.event = ev
	}
}

func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// ctxReader stops reading a file once ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// stdinReader is a ctxReader that also says when it is inside a Read, which
// may block for ever; Run does not wait for such a Read after a cancel.
type stdinReader struct {
	ctx  context.Context
	r    io.Reader
	busy *atomic.Bool
}

func (s *stdinReader) Read(p []byte) (int, error) {
	s.busy.Store(true)
	defer s.busy.Store(false)
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := s.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && s.ctx.Err() != nil {
		return n, s.ctx.Err()
	}
	return n, err
}
