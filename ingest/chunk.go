package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// chunk is a run of whole records of one input, the unit of parallel
// decoding. The reader fills data and spans, a worker fills results and
// events, and delivery hands them on and returns the chunk to the reader.
type chunk struct {
	source  string
	st      *stream // how the input is decoded; nil for an input that failed to open
	last    bool    // the input's last chunk: stateful decoders flush after it
	maxLine int
	bytes   int64 // input bytes covered, line endings included
	data    []byte
	spans   []span
	results []result
	events  []Event
	emit    func(Event) // appends to events; made once per chunk
	err     error       // a read error that ends the input after these lines
	done    chan struct{}
}

// span locates one record in chunk.data: a line without its "\n", or a CSV
// row, whose lines are joined with "\n".
type span struct {
	start, end int
	line       int64 // 1-based line number of the record's first line
	// long is the length of a record over maxLine, whose first bytes only
	// are in data; 0 otherwise.
	long   int64
	header bool // the CSV header row of the input
}

type result struct {
	line     int64
	first, n int         // the record's events are events[first:first+n]
	reason   string      // why the record is a dead letter; "" if it is not
	raw      []byte      // the dead record
	parts    []PartError // unusable records of an envelope, with copied bytes
	deferred int         // 1 + index of a stateful format: delivery decodes it
	blank    bool
	skip     bool // a valid record without an authentication event
}

func newChunk() *chunk {
	c := &chunk{done: make(chan struct{}, 1)}
	c.emit = func(e Event) { c.events = append(c.events, e) }
	return c
}

// parse fills c.results and c.events from c.spans.
func (c *chunk) parse(w *worker) {
	if cap(c.results) < len(c.spans) {
		c.results = make([]result, len(c.spans))
	}
	c.results = c.results[:len(c.spans)]
	if cap(c.events) < len(c.spans) {
		c.events = make([]Event, 0, len(c.spans))
	}
	c.events = c.events[:0]
	for i, sp := range c.spans {
		res := &c.results[i]
		*res = result{line: sp.line, first: len(c.events)}
		rec := c.data[sp.start:sp.end]
		if sp.long > 0 {
			res.reason = fmt.Sprintf("line is longer than %d bytes (%d bytes); raw holds its first %d bytes", c.maxLine, sp.long, len(rec))
			res.raw = bytes.Clone(rec)
			continue
		}
		rec = bytes.TrimPrefix(bytes.TrimSuffix(rec, []byte("\r")), []byte("\xef\xbb\xbf"))
		switch {
		case isBlank(rec):
			res.blank = true
		case sp.header:
			res.skip = true
		default:
			c.decode(w, res, rec)
		}
	}
}

// decode decodes one record in a worker, or defers it to delivery when its
// format keeps state across records.
func (c *chunk) decode(w *worker, res *result, rec []byte) {
	st := c.st
	if st.err != nil {
		res.reason, res.raw = st.err.Error(), bytes.Clone(rec)
		return
	}
	var (
		ev     Event
		err    error
		parsed bool // ev and err hold the fast path's result
	)
	i := st.csv
	switch {
	case st.parse != nil:
		ev, err = st.parse(rec)
		parsed = true
	case i < 0 && len(st.formats) > 1:
		i, ev, err = detect(st.formats, rec)
		parsed = st.formats[i].parse != nil
	case i < 0 && st.formats[0].parse != nil:
		ev, err = st.formats[0].parse(rec)
		parsed = true
	}
	if parsed {
		if err != nil {
			res.reason, res.raw = err.Error(), bytes.Clone(rec)
			return
		}
		c.events = append(c.events, ev)
		res.n = 1
		return
	}
	if i < 0 {
		i = 0
	}
	if !st.formats[i].Stateless {
		res.deferred = i + 1
		return
	}
	dec, err := w.decoder(st, i)
	if err != nil {
		res.reason, res.raw = err.Error(), bytes.Clone(rec)
		return
	}
	c.run(dec, res, rec)
}

// run calls dec on rec and records the outcome in res.
func (c *chunk) run(dec Decoder, res *result, rec []byte) {
	start := len(c.events)
	err := dec.Decode(rec, c.emit)
	res.first, res.n = start, len(c.events)-start
	if err == nil {
		return
	}
	var parts PartErrors
	switch {
	case errors.Is(err, ErrSkip):
		res.skip = true
	case errors.As(err, &parts) && len(parts) > 0:
		res.parts = make([]PartError, len(parts))
		for i, p := range parts {
			res.parts[i] = PartError{Raw: bytes.Clone(p.Raw), Err: p.Err}
		}
		return
	default:
		res.reason, res.raw = err.Error(), bytes.Clone(rec)
	}
	c.events = c.events[:start]
	res.n = 0
}

// stream is how one input is decoded. The reader makes one per input and
// completes it at the input's first line, before any chunk of the input
// reaches a worker; after that, workers only read it.
type stream struct {
	parse   func([]byte) (Event, error) // Files.Parse, when there are no formats
	formats []Format
	csv     int    // index in formats of the CSV format of the input; -1: none
	header  []byte // the CSV header row
	err     error  // the CSV header was refused: every row fails with it
	started bool

	serial []Decoder // decoders of stateful formats: delivery goroutine only
}

// start looks at the first line of the input; it reports whether the line is
// the header row of a CSV format, which then decodes the whole input.
func (s *stream) start(first []byte) bool {
	s.started = true
	first = bytes.TrimPrefix(bytes.TrimSuffix(first, []byte("\r")), []byte("\xef\xbb\xbf"))
	for i := range s.formats {
		f := &s.formats[i]
		if f.SniffHeader == nil || f.NewCSV == nil || !f.SniffHeader(first) {
			continue
		}
		s.csv, s.header = i, bytes.Clone(first)
		if _, err := f.NewCSV(s.header); err != nil {
			s.err = fmt.Errorf("%s CSV header: %w", f.Name, err)
		}
		return true
	}
	return false
}

// newDecoder returns a decoder of format i for this input.
func (s *stream) newDecoder(i int) (Decoder, error) {
	f := &s.formats[i]
	if i == s.csv {
		return f.NewCSV(s.header)
	}
	if f.New == nil {
		return nil, fmt.Errorf("format %s reads only CSV files that start with its header row", f.Name)
	}
	return f.New(), nil
}

// serialDecoder returns the input's one decoder of the stateful format i.
func (s *stream) serialDecoder(i int) (Decoder, error) {
	if s.serial == nil {
		s.serial = make([]Decoder, len(s.formats))
	}
	if s.serial[i] == nil {
		d, err := s.newDecoder(i)
		if err != nil {
			return nil, err
		}
		s.serial[i] = d
	}
	return s.serial[i], nil
}

// worker holds a parsing goroutine's decoders of stateless formats for the
// input it is working on.
type worker struct {
	st   *stream
	decs []Decoder
}

func (w *worker) decoder(st *stream, i int) (Decoder, error) {
	if w.st != st {
		w.st = st
		w.decs = make([]Decoder, len(st.formats))
	}
	if w.decs[i] == nil {
		d, err := st.newDecoder(i)
		if err != nil {
			return nil, err
		}
		w.decs[i] = d
	}
	return w.decs[i], nil
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
