package ingest

import (
	"errors"
	"strconv"
	"strings"
)

// Format is one log format atod reads. Formats are listed explicitly by the
// program that wires atod together (cmd/atod), never registered from init.
type Format struct {
	// Name is what --format takes, e.g. "canonical", "entra", "dovecot".
	Name string
	// Description is one line for --help and error messages.
	Description string
	// Sniff reports whether a record looks like this format. Auto-detection
	// asks the formats in order and takes the first that says yes, so more
	// specific formats come first (see Detect). It must be cheap and never
	// panic.
	Sniff func(rec []byte) bool
	// New returns a decoder for one stream (a file, stdin, a Kafka
	// partition). Decoders may keep state across the records of their
	// stream (the several syslog lines of one Dovecot connection), so every
	// stream gets its own.
	New func() Decoder
	// Stateless formats decode each record on its own; sources may then
	// decode records in parallel (each worker with its own Decoder).
	Stateless bool

	// SniffHeader is set by formats that admin portals export as CSV files
	// with a header row. It reports whether the first line of a file is
	// this format's header; the file source asks it once per file, before
	// Sniff, and then reads the whole file as CSV with decoders from NewCSV.
	SniffHeader func(header []byte) bool
	// NewCSV returns a decoder for the rows of a CSV file that began with
	// header (the line as read, without its line ending). Each record then
	// given to Decode is one row, which may span lines inside quotes. An
	// error means the header lacks what the format needs: every row of the
	// file is dead-lettered with it.
	NewCSV func(header []byte) (Decoder, error)

	// parse, when set, decodes a record into exactly one event without a
	// Decoder: the canonical fast path, which the file source calls
	// directly.
	parse func([]byte) (Event, error)
}

// Decoder turns the records of one stream into canonical events.
type Decoder interface {
	// Decode parses one record (a line, a CSV row, a Kafka message) and
	// calls emit for each event it yields, in order: none for a record that
	// only adds to a story still being collected, several for an envelope
	// of many records. An error means the record is unusable: the caller
	// dead-letters it with the error as the reason and goes on. An error
	// wrapping ErrSkip marks a valid record that carries no authentication
	// event: it is counted, not dead-lettered. A PartErrors error says that
	// some records of an envelope were unusable while the others were
	// emitted. rec is valid only during the call: sources reuse its
	// memory, so a decoder copies what it keeps for later records.
	Decode(rec []byte, emit func(Event)) error
	// Flush emits what the decoder still holds at the end of the stream.
	Flush(emit func(Event))
}

// ErrSkip marks records that are well-formed but not about sign-ins or
// mailbox access (a Dovecot "Disconnected: Logged out" without a story, an
// audit operation atod does not use).
var ErrSkip = errors.New("not an authentication event")

// PartError is one unusable record inside an envelope.
type PartError struct {
	// Raw is the record's own bytes; the receiver must copy them if it
	// keeps them beyond the Decode call.
	Raw []byte
	Err error
}

// PartErrors is what Decode returns for an envelope ({"records":[...]}, a
// JSON array) some of whose records could not be used. The events of the
// others were emitted. Sources dead-letter each part on its own, with its
// own bytes, so that replaying the dead letters repeats no event.
type PartErrors []PartError

func (p PartErrors) Error() string {
	if len(p) == 1 {
		return p[0].Err.Error()
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(len(p)))
	b.WriteString(" records of the envelope are unusable")
	if len(p) > 0 {
		b.WriteString("; the first: ")
		b.WriteString(p[0].Err.Error())
	}
	return b.String()
}

// Canonical is atod's own format: one JSON object per line (DESIGN.md).
var Canonical = Format{
	Name:        "canonical",
	Description: "atod's canonical JSON lines (DESIGN.md)",
	Sniff:       func(rec []byte) bool { _, err := ParseCanonical(rec); return err == nil },
	New:         func() Decoder { return canonicalDecoder{} },
	Stateless:   true,
	parse:       ParseCanonical,
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
