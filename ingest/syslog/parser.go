package syslog

import (
	"bytes"
	"fmt"
	"time"
)

// Parser recognises the framing of each line of one stream. It keeps the
// year of the stream's RFC 3164 timestamps, so every stream needs its own;
// it is not safe for concurrent use.
type Parser struct {
	opt Options
	loc *time.Location

	// Year inference: the year and month of the latest year-less
	// timestamp, zero before the first.
	year  int
	month time.Month

	jsonBuf []byte // MESSAGE of a journald record given as a byte array

	// The last host, program and pid seen: a stream repeats them, and
	// reusing the strings saves an allocation each per line.
	host, app, pid string
}

// intern returns b as a string, reusing *last when it is equal.
func intern(last *string, b []byte) string {
	if string(b) != *last { // compiled without allocating
		*last = string(b)
	}
	return *last
}

// NewParser returns a Parser for one stream.
func NewParser(opt Options) *Parser {
	return &Parser{opt: opt, loc: opt.location()}
}

// Parse splits a line (without its line ending) into a Message. The
// Message aliases line. A line no framing recognises returns an error
// wrapping ErrFraming.
func (p *Parser) Parse(line []byte) (Message, error) {
	line = bytes.TrimRight(line, "\r\n")
	if len(line) == 0 {
		return Message{}, fmt.Errorf("%w: empty line", ErrFraming)
	}
	switch c := line[0]; {
	case c == '{':
		return p.parseJSON(line)
	case c == '<':
		return p.parsePRI(line)
	case isDigit(c):
		return p.parseNumericTime(line)
	case 'A' <= c && c <= 'S':
		return p.parse3164(line)
	}
	return Message{}, fmt.Errorf("%w: unknown start %s", ErrFraming, quote(line))
}

// parsePRI reads "<PRI>" and what follows: RFC 5424 when a version
// follows, otherwise an RFC 3164 or high-precision timestamp.
func (p *Parser) parsePRI(line []byte) (Message, error) {
	end := bytes.IndexByte(line, '>')
	if end < 2 || end > 4 || !allDigits(line[1:end]) {
		return Message{}, fmt.Errorf("%w: bad priority in %s", ErrFraming, quote(line))
	}
	rest := line[end+1:]
	if len(rest) >= 2 && rest[0] == '1' && rest[1] == ' ' {
		return p.parse5424(rest[2:])
	}
	if len(rest) == 0 {
		return Message{}, fmt.Errorf("%w: nothing after the priority", ErrFraming)
	}
	if isDigit(rest[0]) {
		return p.parseNumericTime(rest)
	}
	return p.parse3164(rest)
}

// parse3164 reads "Mmm dd hh:mm:ss " and the rest.
func (p *Parser) parse3164(line []byte) (Message, error) {
	t, n, ok := p.bsdTime(line)
	if !ok {
		return Message{}, fmt.Errorf("%w: no RFC 3164 timestamp in %s", ErrFraming, quote(line))
	}
	return p.afterTime(t, line[n:])
}

// parseNumericTime reads an RFC 3339 timestamp (rsyslog's high-precision
// format) or "YYYY-MM-DD hh:mm:ss[.frac]" in the configured zone (Dovecot's
// log_timestamp set to an ISO date), and the rest.
func (p *Parser) parseNumericTime(line []byte) (Message, error) {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return Message{}, fmt.Errorf("%w: no message after the timestamp", ErrFraming)
	}
	if t, err := parseRFC3339(line[:sp]); err == nil {
		return p.afterTime(t, line[sp:])
	}
	// "2026-03-02 08:31:07[.123]": date, a space, time.
	if sp == 10 {
		if sp2 := bytes.IndexByte(line[sp+1:], ' '); sp2 > 0 {
			if t, ok := parseLocalISO(line[:sp+1+sp2], p.loc); ok {
				return p.afterTime(t, line[sp+1+sp2:])
			}
		}
	}
	return Message{}, fmt.Errorf("%w: bad timestamp %s", ErrFraming, quote(line[:sp]))
}

// afterTime splits "[HOST ]TAG[PID]: MSG" after a timestamp. A first word
// that ends in ':' is a tag, not a host: Dovecot's own log files have no
// host.
func (p *Parser) afterTime(t time.Time, rest []byte) (Message, error) {
	rest = bytes.TrimLeft(rest, " ")
	m := Message{Time: t.UTC()}
	first, _, _ := bytes.Cut(rest, []byte{' '})
	if len(first) == 0 {
		return Message{}, fmt.Errorf("%w: nothing after the timestamp", ErrFraming)
	}
	if first[len(first)-1] != ':' && !bytes.Contains(first, []byte("]:")) {
		m.Host = intern(&p.host, first)
		rest = bytes.TrimLeft(rest[len(first):], " ")
		// BusyBox syslogd and some templates put "facility.level" here.
		if level, after, ok := bytes.Cut(rest, []byte{' '}); ok && isFacilityLevel(level) {
			rest = after
		}
	}
	m.Body = rest
	app, pid, text := splitTag(rest)
	m.App, m.PID, m.Text = intern(&p.app, app), intern(&p.pid, pid), text
	return m, nil
}

// splitTag splits "app[pid]: text". Without a well-formed tag, app and
// pid are empty and text is all of body.
func splitTag(body []byte) (app, pid, text []byte) {
	i := 0
	for i < len(body) && isTagByte(body[i]) {
		i++
	}
	if i == 0 || i == len(body) {
		return nil, nil, body
	}
	appEnd := i
	pidStart, pidEnd := 0, 0
	if body[i] == '[' {
		pidStart = i + 1
		j := bytes.IndexByte(body[pidStart:], ']')
		if j < 0 {
			return nil, nil, body
		}
		pidEnd = pidStart + j
		i = pidEnd + 1
	}
	if i >= len(body) || body[i] != ':' {
		return nil, nil, body
	}
	text = body[i+1:]
	if len(text) > 0 && text[0] == ' ' {
		text = text[1:]
	}
	return body[:appEnd], body[pidStart:pidEnd], text
}

// isFacilityLevel reports "mail.warn" and the like.
func isFacilityLevel(b []byte) bool {
	facility, level, ok := bytes.Cut(b, []byte{'.'})
	if !ok || len(facility) == 0 {
		return false
	}
	for _, c := range facility {
		if !('a' <= c && c <= 'z' || isDigit(c)) {
			return false
		}
	}
	switch string(level) {
	case "emerg", "alert", "crit", "err", "error", "warn", "warning", "notice", "info", "debug":
		return true
	}
	return false
}

func isTagByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) || c == '-' || c == '_' || c == '.' || c == '/'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return len(b) > 0
}

// quote shows the start of a line in an error message.
func quote(b []byte) string {
	if len(b) > 48 {
		return fmt.Sprintf("%q…", b[:48])
	}
	return fmt.Sprintf("%q", b)
}
