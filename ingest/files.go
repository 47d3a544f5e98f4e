package ingest

import (
	"context"
	"errors"
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

// Files reads canonical JSON lines from files, gzip files and stdin, one
// after another in the order of Paths, for atod replay and atod events.
//
// Lines are parsed in parallel and delivered in input order. A line ends at
// "\n"; a trailing "\r" and a leading UTF-8 byte order mark are removed.
// Gzip input is recognised by its magic bytes, whatever the file is called;
// concatenated gzip members are read as one stream. Gzip checks its CRC only
// at the end of a member, so a damaged file may yield some garbled lines
// (usually dead-lettered) before its error.
//
// A chunk of lines is handed on as soon as the input has nothing more
// buffered, so a live pipe (tail -f | atod events -) is not held back.
type Files struct {
	// Paths are read in order; "-" is Stdin.
	Paths []string
	// Stdin is what "-" reads; nil means os.Stdin.
	Stdin io.Reader
	// Parse turns a line into an event; nil means ParseCanonical. It is
	// called from several goroutines at once and must not keep the line.
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

// Run reads all Paths and hands each event to h and each unusable line to
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
		return Stats{}, errors.New("ingest: no input files")
	}
	log := f.Log
	if log == nil {
		log = zap.NewNop()
	}
	if dlq == nil {
		dlq = DeadLetterLogger(log)
	}
	r := &reader{
		paths:      f.Paths,
		stdin:      f.Stdin,
		maxLine:    f.MaxLine,
		chunkBytes: f.chunkBytes,
		log:        log,
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
	parse := f.Parse
	if parse == nil {
		parse = ParseCanonical
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
		r.free <- &chunk{done: make(chan struct{}, 1)}
	}
	r.work = make(chan *chunk, n)
	r.ordered = make(chan *chunk, n)

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() { parseChunks(ctx, r.work, parse) })
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

// parseChunks is a worker: it parses the lines of each chunk into results.
func parseChunks(ctx context.Context, work <-chan *chunk, parse func([]byte) (Event, error)) {
	for {
		select {
		case <-ctx.Done():
			return
		case c, ok := <-work:
			if !ok {
				return
			}
			c.parse(parse)
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
		line := c.firstLine + int64(i)
		st.Lines++
		switch {
		case res.blank:
			st.Blank++
		case res.reason != "":
			d := DeadLetter{Source: c.source, Line: line, Reason: res.reason, Raw: res.raw}
			if err := dlq.DeadLetter(ctx, d); err != nil {
				return fmt.Errorf("%s:%d: writing dead letter: %w", c.source, line, err)
			}
			st.DeadLetters++
		default:
			if err := h.Handle(ctx, res.event); err != nil {
				return fmt.Errorf("%s:%d: handling event: %w", c.source, line, err)
			}
			st.Events++
		}
	}
	return nil
}
