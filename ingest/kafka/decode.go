package kafka

import (
	"errors"
	"fmt"

	"github.com/atod-project/atod/ingest"
)

// decoders turns the records of one partition into events. A partition is
// a stream in the sense of ingest.Format: decoders that keep state across
// records keep it per partition, so every partition gets its own set.
type decoders struct {
	formats  []ingest.Format // sniffed in order; empty: always fallback
	byFormat []ingest.Decoder
	fallback ingest.Decoder
}

// newDecoders returns the decoders for name: FormatAuto takes a valid
// canonical event as one, as replay's detection does (ingest.Detect: no
// other format's record is a valid canonical event, and sniffing first
// cost canonical topics a third of their decoding), then asks each other
// format whether a record is its own, in order, and gives the canonical
// decoder's error for whatever none claims.
func newDecoders(name string, formats []ingest.Format) (*decoders, error) {
	if name != FormatAuto {
		for _, f := range formats {
			if f.Name == name {
				return &decoders{fallback: f.New()}, nil
			}
		}
		if name == ingest.Canonical.Name {
			return &decoders{fallback: ingest.Canonical.New()}, nil
		}
		return nil, fmt.Errorf("kafka.format: unknown format %q", name)
	}
	d := &decoders{fallback: ingest.Canonical.New()}
	for _, f := range formats {
		if f.Name != ingest.Canonical.Name && f.Sniff != nil {
			d.formats = append(d.formats, f)
		}
	}
	d.byFormat = make([]ingest.Decoder, len(d.formats))
	return d, nil
}

// decode appends the events of rec to events. skip reports a record that
// is valid but carries no authentication event; err a record to
// dead-letter, with the reason; parts the unusable records of an envelope
// whose other records' events were appended (an Event Hubs message with
// one bad record among a hundred): they are dead-lettered each with its
// own bytes, copied here, while the rest is detected on.
func (d *decoders) decode(rec []byte, events []ingest.Event) (_ []ingest.Event, parts ingest.PartErrors, skip bool, err error) {
	dec := d.fallback
	var canonErr error
	if len(d.formats) > 0 {
		var e ingest.Event
		if e, canonErr = ingest.ParseCanonical(rec); canonErr == nil {
			return append(events, e), nil, false, nil
		}
	}
	for i := range d.formats {
		if d.formats[i].Sniff(rec) {
			if d.byFormat[i] == nil {
				d.byFormat[i] = d.formats[i].New()
			}
			dec = d.byFormat[i]
			break
		}
	}
	n := len(events)
	if dec == d.fallback && canonErr != nil {
		err = canonErr // no format claimed it: the fallback's own answer
	} else {
		err = dec.Decode(rec, func(e ingest.Event) { events = append(events, e) })
	}
	switch {
	case errors.As(err, &parts) && len(parts) > 0:
		for i := range parts {
			parts[i].Raw = append([]byte(nil), parts[i].Raw...)
		}
		return events, parts, false, nil
	case errors.Is(err, ingest.ErrSkip):
		return events[:n], nil, true, nil
	case err != nil:
		// The whole record goes to the dead-letter topic, so none of it
		// may be detected on as well.
		clear(events[n:])
		return events[:n], nil, false, err
	}
	return events, nil, false, nil
}
