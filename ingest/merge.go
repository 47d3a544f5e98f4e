package ingest

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"
)

// mergeBatch is how many records a merged input hands on at once: enough
// that channel hand-offs cost nothing per event.
const mergeBatch = 256

// mergeItem is one record of a merged input: an event, with the line it
// came from, or a dead letter.
type mergeItem struct {
	ev   Event
	line int64
	dl   *DeadLetter
}

// mergeInput is one input of a merge, read by a Files of its own once the
// merge reaches its first event's time.
type mergeInput struct {
	index int
	path  string
	first time.Time // its first event's time; zero: read from the start
	ch    chan []mergeItem
	free  chan []mergeItem // batches handed on, for the reading goroutine to fill again
	got   []mergeItem      // the batch received last
	head  []mergeItem      // what is left of it
	batch []mergeItem      // what the reading goroutine has not sent yet
	ctx   context.Context
	st    Stats
	err   error
}

// runMerged reads several inputs and hands their events on by event time:
// the earliest head first, ties to the input whose first event is older,
// then in the order of Paths. Inputs that cover
// one period (a mail server's log beside the identity provider's export,
// or rotated files given newest first, as a shell glob lists them) then
// reach the detector as one stream in time order, as live mode would have
// seen them. Each input must itself be in time order within the
// detector's lateness, as one log is.
//
// An input is read by a Files of its own, started only once the merge
// reaches the time of the input's first event, found by reading up to it
// first: a month of hourly files is then read a few files at a time, not
// all at once, each holding a few MiB of buffers. Stdin and named pipes,
// which cannot be read twice, are read from the start; a second "-" is an
// empty input, as it was when inputs were read one after another.
//
// A dead letter has no time: it is handed on when its input comes up, so
// the order of the output does not depend on which goroutine is faster.
func (f *Files) runMerged(ctx context.Context, h Handler, dlq DeadLetterSink) (Stats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		waiting []*mergeInput
		stdin   bool
	)
	for i, path := range f.Paths {
		in := &mergeInput{index: i, path: path, ctx: ctx}
		switch {
		case path == "-":
			if stdin {
				continue
			}
			stdin = true
		case regularFile(path):
			// An input that cannot be read starts at once: its read
			// hands on what comes before the failure, then ends the run.
			in.first, _ = f.firstTime(ctx, path)
		}
		waiting = append(waiting, in)
	}
	slices.SortStableFunc(waiting, func(a, b *mergeInput) int { return a.first.Compare(b.first) })
	// Equal times go to the input that began earlier: the older of two
	// rotated files, named in any order (a shell's glob gives mail.log
	// before mail.log.1), as the one log they were cut from had them.
	for i, in := range waiting {
		in.index = i
	}
	m := merger{files: f, waiting: waiting, h: h, dlq: dlq}
	st, err := m.run(ctx)
	cancel()
	m.wg.Wait()
	for _, in := range m.started {
		st.Files += in.st.Files
		st.Lines += in.st.Lines
		st.Blank += in.st.Blank
		st.Skipped += in.st.Skipped
		st.Bytes += in.st.Bytes
	}
	return st, err
}

// regularFile reports whether path is a file that can be read twice: a
// named pipe (<(zcat x.gz), /dev/stdin) cannot, and starts at once, as
// stdin does.
func regularFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// errFirstFound stops firstTime's read at the first event.
var errFirstFound = errors.New("first event found")

// firstTime reads path up to its first event and returns that event's
// time; zero when it has none or cannot be read. The real read hands on
// the dead letters it passes.
func (f *Files) firstTime(ctx context.Context, path string) (time.Time, error) {
	sub := *f
	sub.Paths, sub.Workers = []string{path}, 1
	var first time.Time
	found := false
	_, err := sub.run(ctx,
		HandlerFunc(func(_ context.Context, e Event) error { first, found = e.Time, true; return errFirstFound }),
		deadLetterFunc(func(context.Context, DeadLetter) error { return nil }))
	if found {
		return first, nil
	}
	return time.Time{}, err
}

// merger hands on the records of the inputs started, and starts the
// waiting ones as their time comes.
type merger struct {
	files   *Files
	waiting []*mergeInput // not started, by first event time
	started []*mergeInput
	q       inputHeap
	h       Handler
	dlq     DeadLetterSink
	wg      sync.WaitGroup
}

func (m *merger) run(ctx context.Context) (Stats, error) {
	var st Stats
	for {
		// Start every input whose first event is due: no later than the
		// earliest head, ties going to the earlier in Paths as the heap
		// orders them.
		for len(m.waiting) > 0 && (len(m.q) == 0 || !m.waiting[0].first.After(m.q[0].headTime())) {
			in := m.waiting[0]
			m.waiting = m.waiting[1:]
			if err := m.start(ctx, in); err != nil || ctx.Err() != nil {
				return st, err
			}
		}
		if len(m.q) == 0 {
			return st, nil
		}
		in := m.q[0]
		it := &in.head[0]
		var err error
		if it.dl != nil {
			if err = m.dlq.DeadLetter(ctx, *it.dl); err != nil {
				err = fmt.Errorf("%s:%d: writing dead letter: %w", it.dl.Source, it.dl.Line, err)
			} else {
				st.DeadLetters++
			}
		} else if err = m.h.Handle(ctx, it.ev); err != nil {
			err = fmt.Errorf("%s:%d: handling event: %w", sourceName(in.path), it.line, err)
		} else {
			st.Events++
		}
		if ctx.Err() != nil {
			return st, nil // whatever failed, it was asked to stop
		}
		if err != nil {
			return st, err
		}
		in.head = in.head[1:]
		if err := m.advance(ctx, in, 0); err != nil || ctx.Err() != nil {
			return st, err
		}
	}
}

// start starts reading in and adds it to the heap once it has a head.
func (m *merger) start(ctx context.Context, in *mergeInput) error {
	in.ch = make(chan []mergeItem, 2)
	in.free = make(chan []mergeItem, 4)
	sub := *m.files
	sub.Paths = []string{in.path}
	m.started = append(m.started, in)
	m.wg.Go(func() { in.read(&sub) })
	return m.advance(ctx, in, -1)
}

// advance gives in a head again once it has handed on its last one, and
// puts it back in its place in the heap (at pos; -1: not in it yet), or
// takes it out once it has ended. An input that failed ends the run once
// the records it read before the failure are handed on, as one input
// does.
func (m *merger) advance(ctx context.Context, in *mergeInput, pos int) error {
	if len(in.head) > 0 {
		if pos >= 0 {
			heap.Fix(&m.q, pos)
		}
		return nil
	}
	if in.got != nil {
		// Recycled: a batch of events is 70 KB, and a fresh one each time
		// was most of a merged replay's garbage.
		select {
		case in.free <- in.got[:0]:
		default:
		}
		in.got = nil
	}
	for len(in.head) == 0 {
		select {
		case b, ok := <-in.ch:
			if !ok {
				if pos >= 0 {
					heap.Remove(&m.q, pos)
				}
				in.free = nil // its batches go with it: a month of files ends many inputs
				return in.err // written before the channel was closed
			}
			in.got, in.head = b, b
		case <-ctx.Done():
			return nil
		}
	}
	if pos < 0 {
		heap.Push(&m.q, in)
	} else {
		heap.Fix(&m.q, pos)
	}
	return nil
}

// read runs the input's Files, handing its records on in batches, and at
// the end of every chunk the Files hands on (which it does as soon as a
// live pipe has nothing more buffered), so that a pipe is not held back.
func (in *mergeInput) read(f *Files) {
	defer close(in.ch)
	in.st, in.err = f.run(in.ctx, in, deadLetterFunc(func(_ context.Context, d DeadLetter) error {
		return in.add(mergeItem{dl: &d})
	}))
	// What the last chunk held goes on, a failed read's too: the records
	// before a failure are handed on, then the failure ends the run.
	if err := in.chunkEnd(); in.err == nil {
		in.err = err
	}
	if in.ctx.Err() != nil {
		in.err = nil
	}
	in.batch = nil
}

// Handle implements Handler, which Files.run takes; it hands events on
// through handleLine instead, which keeps the line for messages.
func (in *mergeInput) Handle(_ context.Context, e Event) error { return in.add(mergeItem{ev: e}) }

func (in *mergeInput) handleLine(e Event, line int64) error {
	return in.add(mergeItem{ev: e, line: line})
}

func (in *mergeInput) add(it mergeItem) error {
	in.batch = append(in.batch, it)
	if len(in.batch) == mergeBatch {
		return in.chunkEnd()
	}
	return nil
}

// chunkEnd sends what the input read so far.
func (in *mergeInput) chunkEnd() error {
	if len(in.batch) == 0 {
		return nil
	}
	select {
	case in.ch <- in.batch:
		select {
		case in.batch = <-in.free:
		default:
			in.batch = make([]mergeItem, 0, mergeBatch)
		}
		return nil
	case <-in.ctx.Done():
		return in.ctx.Err()
	}
}

// lineHandler is a Handler that takes the line of each event as well:
// the merge, whose handler's errors must name it.
type lineHandler interface {
	handleLine(e Event, line int64) error
}

// chunkEnder is told when a chunk's records have all been handed on.
type chunkEnder interface {
	chunkEnd() error
}

// deadLetterFunc lets a plain function be a DeadLetterSink.
type deadLetterFunc func(ctx context.Context, d DeadLetter) error

func (f deadLetterFunc) DeadLetter(ctx context.Context, d DeadLetter) error { return f(ctx, d) }

// sourceName is how an input is named in messages and dead letters.
func sourceName(path string) string {
	if path == "-" {
		return "stdin"
	}
	return path
}

// headTime is the time the input's head is ordered by: a dead letter's is
// the zero time, so it goes at once.
func (in *mergeInput) headTime() time.Time {
	if in.head[0].dl != nil {
		return time.Time{}
	}
	return in.head[0].ev.Time
}

// inputHeap orders inputs by their head's time, then by their first
// event's time and their place in Paths (index).
type inputHeap []*mergeInput

func (q inputHeap) Len() int { return len(q) }
func (q inputHeap) Less(i, j int) bool {
	a, b := q[i].headTime(), q[j].headTime()
	if !a.Equal(b) {
		return a.Before(b)
	}
	return q[i].index < q[j].index
}
func (q inputHeap) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *inputHeap) Push(x any)   { *q = append(*q, x.(*mergeInput)) }
func (q *inputHeap) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// errNoInputs is Run's error without Paths.
var errNoInputs = errors.New("ingest: no input files")
