package ingest

import "strconv"

// This file is the JSON layer of ParseCanonical: a hand-written decoder for
// the flat canonical schema. encoding/json spent most of its time on
// reflection and on allocating a map or a string per field; this decoder
// reads the known keys straight into rawEvent, mostly as sub-slices of the
// line. It accepts exactly the documents encoding/json accepts (same
// grammar, same string unescaping, same nesting limit); FuzzDecoderAgrees
// checks that against an encoding/json-based reference.

// maxNesting mirrors encoding/json's nesting limit, so that both decoders
// reject the same deeply nested documents.
const maxNesting = 10000

type decoder struct {
	data    []byte
	pos     int
	scratch []byte // unescaped strings; reset per line
	key     []byte // the current unescaped key
	plain   bool   // data has no '\\' and no byte below 0x20
}

// decode fills ev from line, which must be valid UTF-8.
func (d *decoder) decode(line []byte, ev *rawEvent) error {
	d.data, d.pos, d.scratch = line, 0, d.scratch[:0]
	d.plain = !hasEscapeOrControl(line)
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		if d.pos >= len(d.data) {
			return syntaxError(d.pos, "empty line, expected a JSON object")
		}
		return syntaxError(d.pos, "expected a JSON object, found "+d.kind())
	}
	d.pos++
	err := d.object(1, func(key []byte) error { return d.topField(key, ev) })
	if err != nil {
		return err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return syntaxError(d.pos, "unexpected "+quoteByte(d.data[d.pos])+" after the JSON object")
	}
	return nil
}

// object reads the members of an object whose '{' was consumed, calling
// field with each key and the position at its value; field must consume the
// value.
func (d *decoder) object(depth int, field func(key []byte) error) error {
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) {
			return syntaxError(d.pos, "unexpected end of line in object")
		}
		if d.data[d.pos] != '"' {
			return syntaxError(d.pos, "expected a key string, found "+quoteByte(d.data[d.pos]))
		}
		key, err := d.readKey()
		if err != nil {
			return err
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return syntaxError(d.pos, "expected ':' after object key")
		}
		d.pos++
		d.skipSpace()
		if d.pos >= len(d.data) {
			return syntaxError(d.pos, "unexpected end of line, expected a value")
		}
		if field != nil {
			err = field(key)
		} else {
			err = d.skipValue(depth)
		}
		if err != nil {
			return err
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return syntaxError(d.pos, "unexpected end of line in object")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return nil
		default:
			return syntaxError(d.pos, "expected ',' or '}' after object value, found "+quoteByte(d.data[d.pos]))
		}
	}
}

// readKey reads a key string; the result is valid until the next key.
func (d *decoder) readKey() ([]byte, error) {
	start := d.pos + 1
	end, escaped, err := d.scanString()
	if err != nil {
		return nil, err
	}
	if !escaped {
		return d.data[start:end], nil
	}
	d.key = unescape(d.key[:0], d.data[start:end])
	return d.key, nil
}

// readString reads a string value. Strings without escapes are returned as
// sub-slices of the line; others are unescaped into d.scratch.
func (d *decoder) readString() ([]byte, error) {
	start := d.pos + 1
	end, escaped, err := d.scanString()
	if err != nil {
		return nil, err
	}
	if !escaped {
		return d.data[start:end], nil
	}
	n := len(d.scratch)
	d.scratch = unescape(d.scratch, d.data[start:end])
	return d.scratch[n:len(d.scratch):len(d.scratch)], nil
}

// skipValue checks and skips any JSON value inside a container at depth.
func (d *decoder) skipValue(depth int) error {
	switch c := d.data[d.pos]; c {
	case '"':
		_, _, err := d.scanString()
		return err
	case '{', '[':
		if depth+1 > maxNesting {
			return syntaxError(d.pos, "nesting deeper than "+strconv.Itoa(maxNesting))
		}
		d.pos++
		if c == '{' {
			return d.object(depth+1, nil)
		}
		return d.array(depth+1, func() error { return d.skipValue(depth + 1) })
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	default:
		_, err := d.scanNumber()
		return err
	}
}

// array reads the elements of an array whose '[' was consumed; elem must
// consume the element at d.pos.
func (d *decoder) array(depth int, elem func() error) error {
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) {
			return syntaxError(d.pos, "unexpected end of line in array")
		}
		if err := elem(); err != nil {
			return err
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return syntaxError(d.pos, "unexpected end of line in array")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return nil
		default:
			return syntaxError(d.pos, "expected ',' or ']' after array element, found "+quoteByte(d.data[d.pos]))
		}
	}
}
