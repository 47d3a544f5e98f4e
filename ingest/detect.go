package ingest

import (
	"bytes"
	"errors"
	"fmt"
)

// Detect returns the index of the format of rec: the first of formats whose
// Sniff accepts it, or the last, which thus decodes every record no other
// format claims and explains, in its error, why such a record is unusable.
// Put the most specific formats first and atod's canonical format last.
//
// One exception keeps canonical input at full speed: when the last format
// is Canonical, a valid canonical line is canonical without asking the
// others. No other format's record is a valid canonical line (each lacks
// the user, time or outcome that canonical requires), so only a line that
// is both gets read differently, and canonical is its better reading.
func Detect(formats []Format, rec []byte) int {
	i, _, _ := detect(formats, rec)
	return i
}

// detect is Detect that also returns what the canonical fast path parsed: the
// event when ok, or the canonical error for a record no format claims.
func detect(formats []Format, rec []byte) (i int, e Event, err error) {
	last := len(formats) - 1
	if parse := formats[last].parse; parse != nil && last > 0 {
		if e, err = parse(rec); err == nil {
			return last, e, nil
		}
	}
	for i := range last {
		if formats[i].Sniff != nil && formats[i].Sniff(rec) {
			return i, Event{}, nil
		}
	}
	return last, Event{}, err
}

// NewAutoDecoder returns a decoder for one stream whose records may be of
// any of formats (see Detect): a Kafka topic fed by several pipelines. It
// keeps one decoder per format, created on first use, and flushes them all
// at the end. It is not safe for concurrent use.
func NewAutoDecoder(formats []Format) (Decoder, error) {
	if len(formats) == 0 {
		return nil, errors.New("ingest: no formats to detect")
	}
	for _, f := range formats {
		if f.New == nil {
			return nil, fmt.Errorf("ingest: format %q has no record decoder", f.Name)
		}
	}
	return &autoDecoder{formats: formats, decs: make([]Decoder, len(formats))}, nil
}

type autoDecoder struct {
	formats []Format
	decs    []Decoder
}

func (a *autoDecoder) Decode(rec []byte, emit func(Event)) error {
	i, e, err := detect(a.formats, rec)
	if a.formats[i].parse != nil && len(a.formats) > 1 {
		if err != nil {
			return err
		}
		emit(e)
		return nil
	}
	if a.decs[i] == nil {
		a.decs[i] = a.formats[i].New()
	}
	return a.decs[i].Decode(rec, emit)
}

func (a *autoDecoder) Flush(emit func(Event)) {
	for _, d := range a.decs {
		if d != nil {
			d.Flush(emit)
		}
	}
}

// HasKey reports whether the JSON record rec has a member named key, at any
// depth: the quoted name followed by optional white space and a colon. It is
// for Sniff functions: cheap, and a string value cannot fake a key, because
// inside a JSON string every quote is escaped. Case matters.
func HasKey(rec []byte, key string) bool {
	if key == "" || len(key) > 64 {
		return false
	}
	// Search from the key's last upper-case letter (or its last bytes):
	// those are rare in JSON, where searching from a quote or a common
	// lower-case letter stops at every key.
	anchor := max(len(key)-4, 0)
	for i := len(key) - 1; i >= 0; i-- {
		if 'A' <= key[i] && key[i] <= 'Z' {
			anchor = i
			break
		}
	}
	var buf [65]byte
	tail := append(append(buf[:0], key[anchor:]...), '"')
	for i := anchor; i < len(rec); {
		j := bytes.Index(rec[i:], tail)
		if j < 0 {
			return false
		}
		at := i + j // where key[anchor:] starts
		i = at + 1
		start := at - anchor
		if start < 1 || rec[start-1] != '"' || string(rec[start:at]) != key[:anchor] ||
			(start >= 2 && rec[start-2] == '\\') {
			continue
		}
		k := at + len(tail)
		for k < len(rec) && (rec[k] == ' ' || rec[k] == '\t' || rec[k] == '\n' || rec[k] == '\r') {
			k++
		}
		if k < len(rec) && rec[k] == ':' {
			return true
		}
	}
	return false
}
