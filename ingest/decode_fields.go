package ingest

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxListEntries caps rule.forward_to and rule.redirect_to. Later entries are
// dropped (the event is kept: a rule that forwards anywhere is what matters,
// and rejecting it would let an attacker hide a rule behind a long list).
const maxListEntries = 100

// topField reads the value of one member of the top-level object.
func (d *decoder) topField(key []byte, ev *rawEvent) error {
	var (
		dst  *[]byte
		bit  uint32
		name string
	)
	switch string(key) {
	case "time":
		dst, bit, name = &ev.time, seenTime, "time"
	case "user":
		dst, bit, name = &ev.user, seenUser, "user"
	case "ip":
		dst, bit, name = &ev.ip, seenIP, "ip"
	case "type":
		dst, bit, name = &ev.typ, seenType, "type"
	case "outcome":
		dst, bit, name = &ev.outcome, seenOutcome, "outcome"
	case "reason":
		dst, bit, name = &ev.reason, seenReason, "reason"
	case "session_id":
		dst, bit, name = &ev.sessionID, seenSessionID, "session_id"
	case "protocol":
		dst, bit, name = &ev.protocol, seenProtocol, "protocol"
	case "user_agent":
		dst, bit, name = &ev.userAgent, seenUserAgent, "user_agent"
	case "device_id":
		dst, bit, name = &ev.device, seenDeviceID, "device_id"
	case "id":
		dst, bit, name = &ev.id, seenID, "id"
	case "tenant":
		dst, bit, name = &ev.tenant, seenTenant, "tenant"
	case "source":
		// atod's own field (the format an event was read from), not
		// DESIGN.md's: a producer's own "source" that is no string (ECS
		// has an object there) is an unknown field, ignored. Twice, it is
		// refused as every known field is.
		if d.data[d.pos] != '"' && d.data[d.pos] != 'n' {
			return d.skipValue(1)
		}
		dst, bit, name = &ev.source, seenSource, "source"
	case "items":
		if err := markSeen(&ev.seen, seenItems, "items"); err != nil {
			return err
		}
		return d.readItems(ev)
	case "rule":
		if err := markSeen(&ev.seen, seenRule, "rule"); err != nil {
			return err
		}
		return d.readRule(&ev.rule)
	default:
		return d.skipValue(1)
	}
	if err := markSeen(&ev.seen, bit, name); err != nil {
		return err
	}
	v, err := d.readStringOrNull(name)
	*dst = v
	return err
}

func markSeen(seen *uint32, bit uint32, name string) error {
	if *seen&bit != 0 {
		return &ParseError{Field: name, Reason: "appears more than once"}
	}
	*seen |= bit
	return nil
}

func (d *decoder) typeError(field, want string) error {
	kind := d.kind()
	if strings.HasPrefix(kind, "invalid") {
		return syntaxError(d.pos, kind+", expected a value")
	}
	return &ParseError{Field: field, Reason: "must be " + want + ", got " + kind}
}

// readStringOrNull reads a string, or null as nil.
func (d *decoder) readStringOrNull(field string) ([]byte, error) {
	switch c := d.data[d.pos]; c {
	case '"':
		return d.readString()
	case 'n':
		return nil, d.literal("null")
	default:
		return nil, d.typeError(field, "a string")
	}
}

// readItems reads a non-negative-or-not integer; bounds are validation's job,
// but values beyond ±2^62 are refused here so the arithmetic cannot overflow.
func (d *decoder) readItems(ev *rawEvent) error {
	c := d.data[d.pos]
	if c == 'n' {
		return d.literal("null")
	}
	if c != '-' && !isDigit(c) {
		return d.typeError("items", "a number")
	}
	start := d.pos
	integer, err := d.scanNumber()
	if err != nil {
		return err
	}
	if !integer {
		return &ParseError{Field: "items", Reason: quoteValue(d.data[start:d.pos]) + " is not a whole number"}
	}
	digits := d.data[start:d.pos]
	neg := digits[0] == '-'
	if neg {
		digits = digits[1:]
	}
	var n int64
	for _, c := range digits {
		if n > 1<<62/10 {
			return &ParseError{Field: "items", Reason: quoteValue(d.data[start:d.pos]) + " is out of range"}
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	ev.hasItems, ev.items = true, n
	return nil
}

func (d *decoder) readRule(r *rawRule) error {
	switch c := d.data[d.pos]; c {
	case 'n':
		return d.literal("null")
	case '{':
		d.pos++
		r.present = true
		return d.object(2, func(key []byte) error { return d.ruleField(key, r) })
	default:
		return d.typeError("rule", "an object")
	}
}

func (d *decoder) ruleField(key []byte, r *rawRule) error {
	var (
		dst  *[]byte
		bit  uint32
		name string
	)
	switch string(key) {
	case "name":
		dst, bit, name = &r.name, seenName, "rule.name"
	case "move_to":
		dst, bit, name = &r.moveTo, seenMoveTo, "rule.move_to"
	case "forward_to":
		if err := markSeen(&r.seen, seenForwardTo, "rule.forward_to"); err != nil {
			return err
		}
		return d.readList("rule.forward_to", &r.forwardTo)
	case "redirect_to":
		if err := markSeen(&r.seen, seenRedirectTo, "rule.redirect_to"); err != nil {
			return err
		}
		return d.readList("rule.redirect_to", &r.redirectTo)
	case "delete":
		if err := markSeen(&r.seen, seenDelete, "rule.delete"); err != nil {
			return err
		}
		return d.readBool("rule.delete", &r.delete)
	default:
		return d.skipValue(2)
	}
	if err := markSeen(&r.seen, bit, name); err != nil {
		return err
	}
	v, err := d.readStringOrNull(name)
	*dst = v
	return err
}

func (d *decoder) readBool(field string, dst *bool) error {
	switch c := d.data[d.pos]; c {
	case 't':
		*dst = true
		return d.literal("true")
	case 'f':
		*dst = false
		return d.literal("false")
	case 'n':
		return d.literal("null")
	default:
		return d.typeError(field, "a boolean")
	}
}

// readList reads an array of strings; null entries are skipped and only the
// first maxListEntries others are kept.
func (d *decoder) readList(field string, dst *[][]byte) error {
	switch c := d.data[d.pos]; c {
	case 'n':
		return d.literal("null")
	case '[':
	default:
		return d.typeError(field, "an array of strings")
	}
	d.pos++
	list := (*dst)[:0]
	err := d.array(3, func() error {
		switch c := d.data[d.pos]; c {
		case '"':
			s, err := d.readString()
			if err == nil && len(list) < maxListEntries {
				list = append(list, s)
			}
			return err
		case 'n':
			return d.literal("null")
		default:
			return d.typeError(field, "an array of strings")
		}
	})
	*dst = list
	return err
}

// unescape appends the unescaped form of s, the content of a JSON string
// already checked by scanString, to dst. It follows encoding/json: a lone or
// mismatched UTF-16 surrogate becomes U+FFFD.
func unescape(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			j := i + 1
			for j < len(s) && s[j] != '\\' {
				j++
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		switch c := s[i+1]; c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2 = hex4(s[i+2 : i+6])
				}
				if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
					r = pair
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
		i += 2
	}
	return dst
}

// hex4 decodes four hex digits, or returns -1.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}
