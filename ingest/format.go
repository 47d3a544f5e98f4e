package ingest

import "errors"

// Format is one log format atod reads. Formats are listed explicitly by the
// program that wires atod together (cmd/atod), never registered from init.
type Format struct {
	// Name is what --format takes, e.g. "canonical", "entra", "dovecot".
	Name string
	// Sniff reports whether a record looks like this format. Auto-detection
	// asks the formats in order and takes the first that says yes, so more
	// specific formats come first. It must be cheap and never panic.
	Sniff func(rec []byte) bool
	// New returns a decoder for one stream (a file, stdin, a Kafka
	// partition). Decoders may keep state across the records of their
	// stream (the several syslog lines of one Dovecot connection), so every
	// stream gets its own.
	New func() Decoder
	// Stateless formats decode each record on its own; sources may then
	// decode records in parallel (each worker with its own Decoder).
	Stateless bool
}

// Decoder turns the records of one stream into canonical events.
type Decoder interface {
	// Decode parses one record (a line, a CSV row, a Kafka message) and
	// calls emit for each event it yields, in order: none for a record that
	// only adds to a story still being collected, several for an envelope
	// of many records. An error means the record is unusable: the caller
	// dead-letters it with the error as the reason and goes on. An error
	// wrapping ErrSkip marks a valid record that carries no authentication
	// event: it is counted, not dead-lettered.
	Decode(rec []byte, emit func(Event)) error
	// Flush emits what the decoder still holds at the end of the stream.
	Flush(emit func(Event))
}

// ErrSkip marks records that are well-formed but not about sign-ins or
// mailbox access (a Dovecot "Disconnected: Logged out" without a story, an
// audit operation atod does not use).
var ErrSkip = errors.New("not an authentication event")

// Canonical is atod's own format: one JSON object per line (DESIGN.md).
var Canonical = Format{
	Name:      "canonical",
	Sniff:     func(rec []byte) bool { _, err := ParseCanonical(rec); return err == nil },
	New:       func() Decoder { return canonicalDecoder{} },
	Stateless: true,
}

type canonicalDecoder struct{}

func (canonicalDecoder) Decode(rec []byte, emit func(Event)) error {
	e, err := ParseCanonical(rec)
	if err != nil {
		return err
	}
	emit(e)
	return nil
}

func (canonicalDecoder) Flush(func(Event)) {}
