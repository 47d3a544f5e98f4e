package syslog

import (
	"bytes"
	"fmt"
)

// parse5424 reads what follows "<PRI>1 ": TIMESTAMP HOSTNAME APP-NAME
// PROCID MSGID STRUCTURED-DATA [MSG], "-" standing for an absent value.
func (p *Parser) parse5424(b []byte) (Message, error) {
	var fields [5][]byte
	for i := range fields {
		sp := bytes.IndexByte(b, ' ')
		if sp <= 0 {
			return Message{}, fmt.Errorf("%w: RFC 5424 header ends after %d fields", ErrFraming, i)
		}
		fields[i], b = b[:sp], b[sp+1:]
	}
	if string(fields[0]) == "-" {
		return Message{}, fmt.Errorf("%w: RFC 5424 record without a timestamp", ErrFraming)
	}
	t, err := parseRFC3339(fields[0])
	if err != nil {
		return Message{}, fmt.Errorf("%w: bad RFC 5424 timestamp %s", ErrFraming, quote(fields[0]))
	}
	m := Message{Time: t.UTC(), Host: nilValue(fields[1]), App: nilValue(fields[2]), PID: nilValue(fields[3])}
	rest, ok := skipStructuredData(b)
	if !ok {
		return Message{}, fmt.Errorf("%w: bad RFC 5424 structured data", ErrFraming)
	}
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	rest = bytes.TrimPrefix(rest, []byte("\xef\xbb\xbf")) // the BOM of a UTF-8 MSG
	m.Text, m.Body = rest, rest
	return m, nil
}

func nilValue(b []byte) string {
	if string(b) == "-" {
		return ""
	}
	return string(b)
}

// skipStructuredData skips "-" or one or more "[id param="value" ...]"
// elements, in whose values '"', '\' and ']' are escaped with '\'.
func skipStructuredData(b []byte) ([]byte, bool) {
	if len(b) > 0 && b[0] == '-' {
		return b[1:], true
	}
	if len(b) == 0 || b[0] != '[' {
		return nil, false
	}
	for len(b) > 0 && b[0] == '[' {
		i, inQuote := 1, false
		for ; i < len(b); i++ {
			c := b[i]
			if inQuote && c == '\\' {
				i++
				continue
			}
			if c == '"' {
				inQuote = !inQuote
			} else if c == ']' && !inQuote {
				break
			}
		}
		if i >= len(b) {
			return nil, false
		}
		b = b[i+1:]
	}
	return b, true
}
