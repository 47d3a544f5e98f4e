package detector

import "github.com/atod-project/atod/enrich"

// eventQueue is the Sequencer's held events: a double-ended queue in
// chunks of queueChunk events. An event is 376 bytes, and a partition that
// works off a backlog holds a lateness's worth of them, tens of thousands.
// In one slice, every growth copied all of them into new memory, and
// releasing from the front meant moving the rest down: catching up on
// 200,000 events spent more time there than in the rules. Chunks are never
// moved; emptied ones are kept for reuse, a few at most.
type eventQueue struct {
	chunks [][]enrich.Event // each queueChunk long; chunks[0] holds the first event
	head   int              // index of the first event in chunks[0]
	n      int              // events held
	spare  [][]enrich.Event // emptied chunks, at most maxSpareChunks
}

const (
	queueChunk     = 256
	maxSpareChunks = 4
)

func (q *eventQueue) len() int { return q.n }

// at returns the i'th event from the front, 0 ≤ i < len.
func (q *eventQueue) at(i int) *enrich.Event {
	j := q.head + i
	return &q.chunks[j/queueChunk][j%queueChunk]
}

// pushBack appends a copy of *e.
func (q *eventQueue) pushBack(e *enrich.Event) {
	if q.head+q.n == len(q.chunks)*queueChunk {
		var c []enrich.Event
		if k := len(q.spare); k > 0 {
			c, q.spare = q.spare[k-1], q.spare[:k-1]
		} else {
			c = make([]enrich.Event, queueChunk)
		}
		q.chunks = append(q.chunks, c)
	}
	*q.at(q.n) = *e
	q.n++
}

// popFront drops the first event, which the caller has copied.
func (q *eventQueue) popFront() {
	*q.at(0) = enrich.Event{} // its strings are not kept alive
	q.head++
	q.n--
	if q.head == queueChunk {
		if len(q.spare) < maxSpareChunks {
			q.spare = append(q.spare, q.chunks[0])
		}
		n := copy(q.chunks, q.chunks[1:])
		q.chunks[n] = nil
		q.chunks = q.chunks[:n]
		q.head = 0
	}
	if q.n == 0 {
		q.head = 0
	}
}
