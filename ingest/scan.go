package ingest

import (
	"bytes"
	"encoding/binary"
	"strconv"
)

// The lexical layer of the decoder: strings, numbers, literals, white space
// and syntax errors, following the JSON grammar exactly as encoding/json does.

// scanString checks the string starting at d.data[d.pos] == '"', moves past
// its closing quote and returns the end of its content and whether it
// contains escapes.
func (d *decoder) scanString() (end int, escaped bool, err error) {
	i := d.pos + 1
	if d.plain {
		// No escapes or control bytes anywhere: the string ends at the next quote.
		if n := bytes.IndexByte(d.data[i:], '"'); n >= 0 {
			d.pos = i + n + 1
			return i + n, false, nil
		}
		return 0, false, syntaxError(len(d.data), "unexpected end of line in string")
	}
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return i, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(d.data) {
				return 0, false, syntaxError(i, "unexpected end of line in string escape")
			}
			switch d.data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d.data) || hex4(d.data[i+2:i+6]) < 0 {
					return 0, false, syntaxError(i, `invalid \u escape in string`)
				}
				i += 6
			default:
				return 0, false, syntaxError(i, "invalid escape "+strconv.Quote(string(d.data[i:i+2]))+" in string")
			}
		case c < 0x20:
			return 0, false, syntaxError(i, "control character "+quoteByte(c)+" in string")
		default:
			i++
		}
	}
	return 0, false, syntaxError(i, "unexpected end of line in string")
}

func (d *decoder) literal(word string) error {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return syntaxError(d.pos, "invalid literal, expected "+word)
	}
	d.pos += len(word)
	return nil
}

// scanNumber checks the JSON number grammar at d.pos and reports whether the
// number is an integer (no fraction, no exponent).
func (d *decoder) scanNumber() (integer bool, err error) {
	i := d.pos
	if i < len(d.data) && d.data[i] == '-' {
		i++
	}
	switch {
	case i < len(d.data) && d.data[i] == '0':
		i++
	case i < len(d.data) && isDigit(d.data[i]):
		for i < len(d.data) && isDigit(d.data[i]) {
			i++
		}
	default:
		if i < len(d.data) {
			return false, syntaxError(i, "invalid character "+quoteByte(d.data[i])+", expected a value")
		}
		return false, syntaxError(i, "unexpected end of line, expected a value")
	}
	integer = true
	if i < len(d.data) && d.data[i] == '.' {
		integer = false
		i++
		if i >= len(d.data) || !isDigit(d.data[i]) {
			return false, syntaxError(i, "invalid number: digit expected after '.'")
		}
		for i < len(d.data) && isDigit(d.data[i]) {
			i++
		}
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		integer = false
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if i >= len(d.data) || !isDigit(d.data[i]) {
			return false, syntaxError(i, "invalid number: digit expected in exponent")
		}
		for i < len(d.data) && isDigit(d.data[i]) {
			i++
		}
	}
	d.pos = i
	return integer, nil
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// hasEscapeOrControl reports whether line has a '\\' or a byte below 0x20.
// Most lines have neither, and then a string simply ends at the next quote.
func hasEscapeOrControl(line []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// The classic "has a zero byte" and "has a byte below n" tests, exact
	// about whether some byte matches, which is all that is asked.
	special := func(w uint64) uint64 {
		backslash := w ^ (ones * '\\')
		return ((backslash-ones)&^backslash | (w - ones*0x20)) &^ w
	}
	i := 0
	for ; i+32 <= len(line); i += 32 {
		b := line[i : i+32]
		if (special(binary.LittleEndian.Uint64(b))|special(binary.LittleEndian.Uint64(b[8:]))|
			special(binary.LittleEndian.Uint64(b[16:]))|special(binary.LittleEndian.Uint64(b[24:])))&highs != 0 {
			return true
		}
	}
	for ; i < len(line); i++ {
		if line[i] == '\\' || line[i] < 0x20 {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func syntaxError(pos int, msg string) error {
	return &ParseError{Reason: "invalid JSON at byte " + strconv.Itoa(pos) + ": " + msg}
}

func quoteByte(c byte) string { return strconv.QuoteRune(rune(c)) }

// kind names the JSON type of the value at d.pos, for error messages; it
// names a literal only when it is spelled out, so that "this is not JSON"
// is not called a boolean.
func (d *decoder) kind() string {
	rest := d.data[d.pos:]
	switch c := rest[0]; {
	case c == '"':
		return "a string"
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case bytes.HasPrefix(rest, []byte("true")) || bytes.HasPrefix(rest, []byte("false")):
		return "a boolean"
	case bytes.HasPrefix(rest, []byte("null")):
		return "null"
	case c == '-' || isDigit(c):
		return "a number"
	default:
		return "invalid character " + quoteByte(c)
	}
}
