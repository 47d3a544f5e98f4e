package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Text is a JSON value read as text, for fields that sources write with
// varying types: a string as is, a number or boolean as written (an error
// code as 50126 or "50126"), null as "". Objects and arrays are refused.
type Text string

// UnmarshalJSON implements json.Unmarshaler.
func (t *Text) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0:
		return errors.New("empty JSON value")
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(s)
	case bytes.Equal(b, []byte("null")):
		*t = ""
	case b[0] == '{' || b[0] == '[':
		return errors.New("expected a string, number or boolean, found an object or array")
	default:
		*t = Text(b)
	}
	return nil
}

// Nested is a JSON value that some exports give as a string holding its JSON
// (the dynamic columns of a Log Analytics CSV export, OfficeActivity's
// Parameters). Set says whether the value was present and not null or "".
type Nested[T any] struct {
	V   T
	Set bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Nested[T]) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			return nil
		}
		b = []byte(s)
	}
	if err := json.Unmarshal(b, &n.V); err != nil {
		return fmt.Errorf("nested JSON: %w", err)
	}
	n.Set = true
	return nil
}

// EachRecord decodes the records of an envelope (see Envelope) with decode,
// which emits their events. Unusable records come back as PartErrors, after
// the events of the others; when no record yields an event and none is
// unusable (an empty page, a batch of other categories), the result wraps
// ErrSkip.
func EachRecord(parts [][]byte, decode func(rec []byte, emit func(Event)) error, emit func(Event)) error {
	var bad PartErrors
	events := 0
	count := func(e Event) { events++; emit(e) }
	for _, p := range parts {
		err := decode(p, count)
		var inner PartErrors
		switch {
		case err == nil, errors.Is(err, ErrSkip):
		case errors.As(err, &inner):
			bad = append(bad, inner...)
		default:
			bad = append(bad, PartError{Raw: p, Err: err})
		}
	}
	switch {
	case len(bad) > 0:
		return bad
	case events == 0:
		return fmt.Errorf("%w: no record of the batch of %d is a sign-in or mailbox event", ErrSkip, len(parts))
	}
	return nil
}
