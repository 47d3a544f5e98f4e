package syslog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// jsonRecord holds the keys atod reads from a JSON record: journald's
// export fields (journalctl -o json), and the property names rsyslog
// templates commonly use for omkafka (%jsonmesg% and hand-written
// templates). encoding/json matches keys case-insensitively, so
// "MESSAGE" and "message" land in the same field.
type jsonRecord struct {
	Realtime       json.RawMessage `json:"__REALTIME_TIMESTAMP"`
	SourceRealtime json.RawMessage `json:"_SOURCE_REALTIME_TIMESTAMP"`
	JournalHost    json.RawMessage `json:"_HOSTNAME"`
	Identifier     json.RawMessage `json:"SYSLOG_IDENTIFIER"`
	Comm           json.RawMessage `json:"_COMM"`
	JournalPID     json.RawMessage `json:"_PID"`
	SyslogPID      json.RawMessage `json:"SYSLOG_PID"`
	Message        json.RawMessage `json:"MESSAGE"`

	Msg          json.RawMessage `json:"msg"`
	TimeReported json.RawMessage `json:"timereported"`
	Timestamp    json.RawMessage `json:"timestamp"`
	AtTimestamp  json.RawMessage `json:"@timestamp"`
	Time         json.RawMessage `json:"time"`
	Hostname     json.RawMessage `json:"hostname"`
	Host         json.RawMessage `json:"host"`
	ProgramName  json.RawMessage `json:"programname"`
	AppName      json.RawMessage `json:"app-name"`
	AppName2     json.RawMessage `json:"app_name"`
	Program      json.RawMessage `json:"program"`
	SyslogTag    json.RawMessage `json:"syslogtag"`
	ProcID       json.RawMessage `json:"procid"`
	PID          json.RawMessage `json:"pid"`
}

var errNoMessage = fmt.Errorf("%w: JSON record without a message", ErrFraming)

// mayHaveMessage reports whether rec could hold a message key, which
// every syslog JSON record has. Auto-detection asks the syslog formats
// about every JSON record, most of them canonical events or providers'
// records with no such key; this answers them without decoding, which
// took a third of atod run's time. encoding/json matches keys ignoring
// case, and so does this; a record with \u escapes or non-ASCII bytes,
// which could spell a key (encoding/json folds "ſ" to "s"), gets the full
// decode.
func mayHaveMessage(rec []byte) bool {
	if bytes.Contains(rec, []byte(`\u`)) {
		return true
	}
	for _, c := range rec {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	for i := 0; i < len(rec); i++ {
		j := bytes.IndexByte(rec[i:], '"')
		if j < 0 {
			return false
		}
		i += j
		for _, key := range [...]string{"msg", "message"} {
			if s := i - len(key); s >= 1 && rec[s-1] == '"' && bytes.EqualFold(rec[s:i], []byte(key)) {
				return true
			}
		}
	}
	return false
}

// parseJSON reads a journald export record or an rsyslog JSON template.
// A record with a message but no program (a template that forwards the
// raw line) has its message parsed as a line of its own.
func (p *Parser) parseJSON(line []byte) (Message, error) {
	if !mayHaveMessage(line) {
		return Message{}, errNoMessage
	}
	var r jsonRecord
	if err := json.Unmarshal(line, &r); err != nil {
		return Message{}, fmt.Errorf("%w: bad JSON: %v", ErrFraming, err)
	}
	text, err := p.messageText(first(r.Message, r.Msg))
	if err != nil {
		return Message{}, err
	}
	// rsyslog's msg property keeps the space that followed the tag.
	text = bytes.TrimPrefix(text, []byte{' '})
	m := Message{
		Host: str(first(r.JournalHost, r.Hostname, r.Host)),
		App:  str(first(r.Identifier, r.ProgramName, r.AppName, r.AppName2, r.Program, r.Comm)),
		PID:  str(first(r.SyslogPID, r.JournalPID, r.ProcID, r.PID)),
		Text: text,
		Body: text,
	}
	if len(r.SyslogTag) > 0 {
		// rsyslog's programname (and app-name, from it) stops at the
		// first "/" of the tag: "postfix/smtpd[982]:" gives "postfix".
		// The tag says which of a suite's programs wrote the line.
		app, pid, _ := splitTag(append([]byte(str(r.SyslogTag)), ' '))
		if m.App == "" || (len(app) > len(m.App) && strings.HasPrefix(string(app), m.App+"/")) {
			m.App = string(app)
			if m.PID == "" {
				m.PID = string(pid)
			}
		}
	}
	if m.PID == "-" {
		m.PID = ""
	}
	switch us := str(first(r.SourceRealtime, r.Realtime)); {
	case us != "":
		n, err := strconv.ParseInt(us, 10, 64)
		if err != nil {
			return Message{}, fmt.Errorf("%w: bad journald timestamp %q", ErrFraming, us)
		}
		m.Time = time.UnixMicro(n).UTC()
	default:
		ts := str(first(r.TimeReported, r.Timestamp, r.AtTimestamp, r.Time))
		if ts == "" {
			if m.App == "" && len(text) > 0 {
				return p.Parse(text) // the template forwards the raw line
			}
			return Message{}, fmt.Errorf("%w: JSON record without a timestamp", ErrFraming)
		}
		t, err := p.jsonTime([]byte(ts))
		if err != nil {
			return Message{}, err
		}
		m.Time = t
	}
	if m.App == "" && len(text) > 0 {
		app, pid, rest := splitTag(text)
		m.App, m.PID, m.Text = string(app), string(pid), rest
	}
	return m, nil
}

// jsonTime reads a template's timestamp: RFC 3339 (date-rfc3339) or RFC
// 3164 (the default date format).
func (p *Parser) jsonTime(b []byte) (time.Time, error) {
	if t, err := parseRFC3339(b); err == nil {
		return t.UTC(), nil
	}
	if t, n, ok := p.bsdTime(b); ok && n == len(b) {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%w: bad timestamp %s in JSON record", ErrFraming, quote(b))
}

// messageText returns MESSAGE, which journald gives as an array of byte
// values when it is not valid UTF-8.
func (p *Parser) messageText(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errNoMessage
	}
	if raw[0] == '[' {
		var vals []byte
		var ints []int
		if err := json.Unmarshal(raw, &ints); err != nil {
			return nil, fmt.Errorf("%w: bad MESSAGE byte array: %v", ErrFraming, err)
		}
		for _, v := range ints {
			if v < 0 || v > 255 {
				return nil, fmt.Errorf("%w: MESSAGE byte %d out of range", ErrFraming, v)
			}
			vals = append(vals, byte(v))
		}
		p.jsonBuf = append(p.jsonBuf[:0], vals...)
		return p.jsonBuf, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("%w: MESSAGE is not a string: %v", ErrFraming, err)
	}
	return []byte(s), nil
}

// first returns the first present value.
func first(vals ...json.RawMessage) json.RawMessage {
	for _, v := range vals {
		if len(v) > 0 && string(v) != "null" {
			return v
		}
	}
	return nil
}

// str returns a JSON string or number as text, "" for anything else.
func str(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	if isDigit(raw[0]) || raw[0] == '-' {
		return string(raw)
	}
	return ""
}
