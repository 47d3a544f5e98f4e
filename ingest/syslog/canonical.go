package syslog

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/atod-project/atod/ingest"
)

// Canonicalizer passes events built from log text through the canonical
// format's rules (ingest.ParseCanonical), so that events from syslog carry
// the same normalised user, address and id limits as every other source.
// It writes the event's JSON into a buffer it reuses, which costs a
// fraction of encoding/json; it is not safe for concurrent use.
type Canonicalizer struct {
	buf []byte
}

// Canonical returns e as ParseCanonical reads it, or its error.
func (c *Canonicalizer) Canonical(e ingest.Event) (ingest.Event, error) {
	b := append(c.buf[:0], `{"time":"`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendField(b, "user", e.User)
	if e.IP.IsValid() {
		b = append(b, `,"ip":"`...)
		b = e.IP.AppendTo(b)
		b = append(b, '"')
	}
	for _, f := range [...]struct{ key, val string }{
		{"type", e.Type}, {"outcome", e.Outcome}, {"reason", e.Reason}, {"session_id", e.SessionID},
		{"protocol", e.Protocol}, {"user_agent", e.UserAgent}, {"device_id", e.DeviceID}, {"id", e.ID},
		{"tenant", e.Tenant}, {"source", e.Source},
	} {
		if f.val != "" {
			b = appendField(b, f.key, f.val)
		}
	}
	if e.Items != 0 {
		b = append(b, `,"items":`...)
		b = strconv.AppendInt(b, int64(e.Items), 10)
	}
	b = append(b, '}')
	c.buf = b
	return ingest.ParseCanonical(b)
}

// appendField appends ,"key":"value" with value escaped as JSON; bytes
// that are not UTF-8 become U+FFFD, as encoding/json would make them.
func appendField(b []byte, key, val string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':', '"')
	for i := 0; i < len(val); {
		c := val[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		case c < utf8.RuneSelf:
			b = append(b, c)
		default:
			r, size := utf8.DecodeRuneInString(val[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\uFFFD"...) // each bad byte, as encoding/json does
			} else {
				b = append(b, val[i:i+size]...)
			}
			i += size
			continue
		}
		i++
	}
	return append(b, '"')
}
