package ingest

import "context"

// Handler receives the events of a source. Sources call Handle from a single
// goroutine, in input order, and wait for it to return: a slow handler slows
// the source down instead of piling events up in memory. A non-nil error
// stops the source, which returns it; Handle should return promptly when ctx
// is cancelled.
type Handler interface {
	Handle(ctx context.Context, e Event) error
}

// HandlerFunc lets a plain function be a Handler.
type HandlerFunc func(ctx context.Context, e Event) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, e Event) error { return f(ctx, e) }

var (
	_ Handler        = HandlerFunc(nil)
	_ DeadLetterSink = (*deadLetterWriter)(nil)
	_ DeadLetterSink = deadLetterLogger{}
)

// DeadLetter is an input line that did not become an event, with the reason,
// so that nothing is dropped silently.
type DeadLetter struct {
	// Source names the input: a file path, "stdin", a Kafka topic/partition.
	Source string
	// Line is the 1-based line number in Source (for Kafka: the offset).
	Line int64
	// Reason says why the line was refused, for people.
	Reason string
	// Raw is the line without its line ending; for an over-long line, only
	// its first bytes. The sink owns it.
	Raw []byte
}

// DeadLetterSink receives the lines a source could not use. Sources call it
// from the same single goroutine as the Handler, in input order; an error
// stops the source (a dead letter that cannot be recorded would be lost).
type DeadLetterSink interface {
	DeadLetter(ctx context.Context, d DeadLetter) error
}

// Stats counts what a source read. Lines counts records (a line, or a CSV
// row, which may span lines), blank ones and dead-lettered ones included.
// Once a run ends without error, each record is blank, skipped, a dead
// letter, or handed on as its events: none for a record a stateful format
// holds for later, several for an envelope (so Events may exceed Lines), and
// an envelope with unusable parts counts one dead letter per part. A run
// that was cancelled may have read records it did not hand on: its Events
// and DeadLetters count what was handed on, the rest what was read.
type Stats struct {
	Files       int   // inputs opened, stdin included
	Lines       int64 // records read
	Events      int64 // events the handler accepted
	Blank       int64 // empty or whitespace-only lines, skipped
	Skipped     int64 // valid records without an authentication event (ErrSkip), CSV header rows
	DeadLetters int64 // records (or parts of envelopes) sent to the dead-letter sink
	Bytes       int64 // bytes of input after decompression, line endings included
}
