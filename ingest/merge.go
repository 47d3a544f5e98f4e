package ingest

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// mergeBatch is how many records a merged input hands on at once: enough
// that channel hand-offs cost nothing per event.
const mergeBatch = 256

// mergeItem is one record of a merged input: an event, or a dead letter.
type mergeItem struct {
	ev Event
	dl *DeadLetter
}

// mergeInput is one input of a merge, read by a Files of its own.
type mergeInput struct {
	index int
	path  string
	ch    chan []mergeItem
	head  []mergeItem // what is left of the batch received last
	st    Stats
	err   error
}

// runMerged reads every input at once, each with a Files of its own, and
// hands their events on by event time: the earliest head first, ties in
// the order of Paths. Inputs that cover one period (a mail server's log
// beside the identity provider's export, or rotated files given newest
// first, as a shell glob lists them) then reach the detector as one
// stream in time order, as live mode would have seen them. Each input must
// itself be in time order within the detector's lateness, as one file is.
//
// A dead letter has no time: it is handed on when its input comes up, so
// the order of the output does not depend on which goroutine is faster.
func (f *Files) runMerged(ctx context.Context, h Handler, dlq DeadLetterSink) (Stats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := f.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	inputs := make([]*mergeInput, len(f.Paths))
	var wg sync.WaitGroup
	for i, path := range f.Paths {
		in := &mergeInput{index: i, path: path, ch: make(chan []mergeItem, 2)}
		inputs[i] = in
		sub := *f
		sub.Paths = []string{path}
		sub.Workers = max(1, workers/len(f.Paths))
		wg.Go(func() { in.read(ctx, &sub) })
	}
	st, err := mergeInputs(ctx, inputs, h, dlq)
	cancel()
	wg.Wait()
	for _, in := range inputs {
		st.Files += in.st.Files
		st.Lines += in.st.Lines
		st.Blank += in.st.Blank
		st.Skipped += in.st.Skipped
		st.Bytes += in.st.Bytes
	}
	return st, err
}

// read runs one input's Files, handing its records on in batches.
func (in *mergeInput) read(ctx context.Context, f *Files) {
	defer close(in.ch)
	batch := make([]mergeItem, 0, mergeBatch)
	send := func() error {
		select {
		case in.ch <- batch:
			batch = make([]mergeItem, 0, mergeBatch)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	add := func(it mergeItem) error {
		batch = append(batch, it)
		if len(batch) == mergeBatch {
			return send()
		}
		return nil
	}
	in.st, in.err = f.run(ctx,
		HandlerFunc(func(_ context.Context, e Event) error { return add(mergeItem{ev: e}) }),
		deadLetterFunc(func(_ context.Context, d DeadLetter) error { return add(mergeItem{dl: &d}) }))
	if len(batch) > 0 && ctx.Err() == nil {
		send() //nolint:errcheck // only a cancelled run fails here, and it ends
	}
}

// deadLetterFunc lets a plain function be a DeadLetterSink.
type deadLetterFunc func(ctx context.Context, d DeadLetter) error

func (f deadLetterFunc) DeadLetter(ctx context.Context, d DeadLetter) error { return f(ctx, d) }

// next makes in.head non-empty, waiting for the input's next batch. It
// reports false once the input has ended; in.err then says how.
func (in *mergeInput) next(ctx context.Context) bool {
	for len(in.head) == 0 {
		select {
		case b, ok := <-in.ch:
			if !ok {
				return false
			}
			in.head = b
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// headTime is the time the input's head is ordered by: a dead letter's is
// the zero time, so it goes at once.
func (in *mergeInput) headTime() time.Time {
	if in.head[0].dl != nil {
		return time.Time{}
	}
	return in.head[0].ev.Time
}

// inputHeap orders inputs by their head's time, then by their place in
// Paths.
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

// mergeInputs hands on the inputs' records, earliest head first. An input
// that failed ends the run once the records it read before the failure
// are handed on, as Files.Run does for one input.
func mergeInputs(ctx context.Context, inputs []*mergeInput, h Handler, dlq DeadLetterSink) (Stats, error) {
	var st Stats
	q := make(inputHeap, 0, len(inputs))
	for _, in := range inputs {
		if in.next(ctx) {
			q = append(q, in)
		} else if in.err != nil || ctx.Err() != nil {
			return st, in.err
		}
	}
	heap.Init(&q)
	for len(q) > 0 {
		in := q[0]
		it := &in.head[0]
		if it.dl != nil {
			if err := dlq.DeadLetter(ctx, *it.dl); err != nil {
				return st, fmt.Errorf("%s:%d: writing dead letter: %w", it.dl.Source, it.dl.Line, err)
			}
			st.DeadLetters++
		} else {
			if err := h.Handle(ctx, it.ev); err != nil {
				return st, fmt.Errorf("%s: handling event: %w", in.path, err)
			}
			st.Events++
		}
		in.head[0] = mergeItem{} // the batch may be held a while: let go of the record
		in.head = in.head[1:]
		if in.next(ctx) {
			heap.Fix(&q, 0)
			continue
		}
		if ctx.Err() != nil {
			return st, nil // asked to stop
		}
		if in.err != nil {
			return st, in.err
		}
		heap.Pop(&q)
	}
	return st, nil
}

// errNoInputs is Run's error without Paths.
var errNoInputs = errors.New("ingest: no input files")
