package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"go.uber.org/zap"
)

// Defaults of Files.
const (
	DefaultMaxLine = 1 << 20
	// deadLetterPrefix is how much of an over-long line a dead letter keeps.
	deadLetterPrefix = 4 << 10
	// defaultChunkBytes is how much input one parsing job covers: large
	// enough that channel hand-offs cost nothing per line, small enough
	// that several jobs keep all workers busy.
	defaultChunkBytes = 64 << 10
)

// Files reads log records from files, gzip files and stdin, for atod
// replay and atod events: canonical JSON lines, or any of Formats. Several
// inputs are read at once and their events merged by event time (see
// runMerged).
//
// Records are decoded in parallel and delivered in input order; records of
// a format that is not Stateless are decoded in order by the delivering
// goroutine, with one decoder per input, flushed at the input's end. A
// record is a line, or a CSV row, which may span lines inside quotes. A
// line ends at "\n"; a trailing "\r" and a leading UTF-8 byte order mark
// are removed.
// Gzip input is recognised by its magic bytes, whatever the file is called;
// concatenated gzip members are read as one stream. Gzip checks its CRC only
// at the end of a member, so a damaged file may yield some garbled lines
// (usually dead-lettered) before its error.
//
// A chunk of lines is handed on as soon as the input has nothing more
// buffered, so a live pipe (tail -f | atod events -) is not held back.
type Files struct {
	// Paths are the inputs; "-" is Stdin.
	Paths []string
	// Stdin is what "-" reads; nil means os.Stdin.
	Stdin io.Reader
	// Formats are the formats of the input. With one, every input is read
	// as that format; with several, each record's format is detected
	// (Detect), so the last one decodes what no other claims. A format
	// with SniffHeader decodes a whole input that starts with its CSV
	// header row. Nil means canonical lines, through Parse.
	Formats []Format
	// Parse turns a line into an event when Formats is nil; nil means
	// ParseCanonical. It is called from several goroutines at once and
	// must not keep the line.
	Parse func([]byte) (Event, error)
	// MaxLine is the longest line accepted, in bytes without the line
	// ending; 0 means DefaultMaxLine. It is also the size of the line
	// buffer. Longer lines are dead-lettered with their first
	// min(4 KiB, MaxLine) bytes, and never held in memory whole.
	MaxLine int
	// Workers is the number of parsing goroutines; 0 means GOMAXPROCS.
	Workers int
	// Log receives progress and, when Run is given no sink, dead letters.
	// nil means no logging.
	Log *zap.Logger

	chunkBytes int // tests make it small to exercise chunk boundaries
}

// Run reads all Paths and hands each event to h and each unusable record to
// dlq (nil means DeadLetterLogger(f.Log)). It returns when the input is
// exhausted, when h or dlq fail (the error names the file and line), when an
// input cannot be read (the events before the failure are delivered first,
// and the error names the file), or when ctx is cancelled, which returns a
// nil error. Run calls h and dlq from its own goroutine.
//
// When ctx is cancelled while a read from Stdin is blocked, Run returns
// without waiting for that read; the reading goroutine ends when it returns.
// Every other goroutine has ended when Run returns.
func (f *Files) Run(ctx context.Context, h Handler, dlq DeadLetterSink) (Stats, error) {
	if len(f.Paths) == 0 {
		return Stats{}, errNoInputs
	}
	if dlq == nil {
		dlq = DeadLetterLogger(f.logger())
	}
	if len(f.Paths) > 1 {
		return f.runMerged(ctx, h, dlq)
	}
	return f.run(ctx, h, dlq)
}

// logger is Log, or one that logs nothing.
func (f *Files) logger() *zap.Logger {
	if f.Log == nil {
		return zap.NewNop()
	}
	return f.Log
}

// run is Run of the inputs one after another.
func (f *Files) run(ctx context.Context, h Handler, dlq DeadLetterSink) (Stats, error) {
	r := &reader{
		paths:      f.Paths,
		stdin:      f.Stdin,
		maxLine:    f.MaxLine,
		chunkBytes: f.chunkBytes,
		log:        f.logger(),
		formats:    f.Formats,
		parse:      f.Parse,
	}
	if r.stdin == nil {
		r.stdin = os.Stdin
	}
	if r.maxLine <= 0 {
		r.maxLine = DefaultMaxLine
	}
	if r.chunkBytes <= 0 {
		r.chunkBytes = defaultChunkBytes
	}
	if len(r.formats) == 0 && r.parse == nil {
		r.parse = ParseCanonical
	}
	if len(r.formats) > 0 {
		r.parse = nil
	}
	workers := f.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A fixed set of chunks circulates reader → workers → delivery → reader,
	// which bounds memory and reuses every buffer.
	n := 2*workers + 2
	r.free = make(chan *chunk, n)
	for range n {
		r.free <- newChunk()
	}
	r.work = make(chan *chunk, n)
	r.ordered = make(chan *chunk, n)

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() { parseChunks(ctx, r.work) })
	}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		r.run(ctx)
	}()

	st, err := deliver(ctx, r.ordered, r.free, h, dlq)
	cancel()
	wg.Wait()
	if !r.inStdin.Load() {
		<-readerDone
	}
	st.Files = int(r.opened.Load())
	return st, err
}

// parseChunks is a worker: it decodes the records of each chunk.
func parseChunks(ctx context.Context, work <-chan *chunk) {
	var w worker
	for {
		select {
		case <-ctx.Done():
			return
		case c, ok := <-work:
			if !ok {
				return
			}
			c.parse(&w)
			c.done <- struct{}{}
		}
	}
}

// deliver hands the results of each chunk, in order, to h and dlq.
func deliver(ctx context.Context, ordered <-chan *chunk, free chan<- *chunk, h Handler, dlq DeadLetterSink) (Stats, error) {
	var st Stats
	for {
		var c *chunk
		select {
		case <-ctx.Done():
			return st, nil
		case c = <-ordered:
			if c == nil {
				return st, nil // the reader is done
			}
		}
		select {
		case <-ctx.Done():
			return st, nil
		case <-c.done:
		}
		err := c.deliver(ctx, &st, h, dlq)
		if err == nil {
			err = c.err
		}
		if ce, ok := h.(chunkEnder); ok && err == nil {
			err = ce.chunkEnd()
		}
		free <- c
		if ctx.Err() != nil {
			return st, nil // whatever failed, it was asked to stop
		}
		if err != nil {
			return st, err
		}
	}
}

// deliver hands one parsed chunk on, counting as it goes.
func (c *chunk) deliver(ctx context.Context, st *Stats, h Handler, dlq DeadLetterSink) error {
	st.Bytes += c.bytes
	for i := range c.results {
		if i%64 == 63 && ctx.Err() != nil {
			return nil
		}
		res := &c.results[i]
		if res.deferred > 0 {
			c.decodeSerial(res, i)
		}
		st.Lines++
		switch {
		case res.blank:
			st.Blank++
		case res.skip:
			st.Skipped++
		case res.reason != "":
			if err := c.deadLetter(ctx, st, dlq, res.line, res.reason, res.raw); err != nil {
				return err
			}
		default:
			for _, p := range res.parts {
				if err := c.deadLetter(ctx, st, dlq, res.line, p.Err.Error(), p.Raw); err != nil {
					return err
				}
			}
			if err := c.handle(ctx, st, h, res.line, c.events[res.first:res.first+res.n]); err != nil {
				return err
			}
		}
	}
	if c.last && c.st != nil {
		return c.flush(ctx, st, h)
	}
	return nil
}

// decodeSerial decodes the record of results[i], deferred by a worker
// because its format keeps state across records.
func (c *chunk) decodeSerial(res *result, i int) {
	sp := c.spans[i]
	rec := bytes.TrimPrefix(bytes.TrimSuffix(c.data[sp.start:sp.end], []byte("\r")), []byte("\xef\xbb\xbf"))
	dec, err := c.st.serialDecoder(res.deferred - 1)
	if err != nil {
		res.reason, res.raw = err.Error(), bytes.Clone(rec)
		return
	}
	c.run(dec, res, rec)
}

// flush ends the input: its stateful decoders emit what they still hold.
func (c *chunk) flush(ctx context.Context, st *Stats, h Handler) error {
	line := int64(0)
	if n := len(c.results); n > 0 {
		line = c.results[n-1].line
	}
	for _, d := range c.st.serial {
		if d == nil {
			continue
		}
		start := len(c.events)
		d.Flush(c.emit)
		if err := c.handle(ctx, st, h, line, c.events[start:]); err != nil {
			return err
		}
	}
	return nil
}

func (c *chunk) handle(ctx context.Context, st *Stats, h Handler, line int64, events []Event) error {
	lh, _ := h.(lineHandler)
	for i := range events {
		var err error
		if lh != nil {
			err = lh.handleLine(events[i], line)
		} else {
			err = h.Handle(ctx, events[i])
		}
		if err != nil {
			return fmt.Errorf("%s:%d: handling event: %w", c.source, line, err)
		}
		st.Events++
	}
	return nil
}

func (c *chunk) deadLetter(ctx context.Context, st *Stats, dlq DeadLetterSink, line int64, reason string, raw []byte) error {
	d := DeadLetter{Source: c.source, Line: line, Reason: reason, Raw: raw}
	if err := dlq.DeadLetter(ctx, d); err != nil {
		return fmt.Errorf("%s:%d: writing dead letter: %w", c.source, line, err)
	}
	st.DeadLetters++
	return nil
}
