package ingest

import (
	"strconv"
	"unicode/utf8"
)

// Limits of the canonical schema. Identity fields over their limit are
// rejected, because a cut identity would be a different account; free text
// is cut at a UTF-8 boundary instead, because the rest of the event is still
// evidence.
const (
	// MaxUserLen bounds user, after trimming and lowercasing; longer is an error.
	MaxUserLen = 512
	// MaxUserAgentLen bounds user_agent; longer values are truncated.
	MaxUserAgentLen = 1024
	// MaxIDLen bounds id, session_id, device_id, tenant and source. Longer values
	// keep a prefix and end in "~" plus 32 hex digits of the SHA-256 of the
	// whole value, so that two long ids with a common prefix (JWTs) stay
	// distinct for deduplication and session tracking.
	MaxIDLen = 256
	// MaxRuleTextLen bounds rule.name and rule.move_to; longer values are truncated.
	MaxRuleTextLen = 1024
	// MaxAddressLen bounds each rule.forward_to and rule.redirect_to entry;
	// longer entries are truncated.
	MaxAddressLen = 512
	// MaxItems bounds items; more is an error.
	MaxItems = 1_000_000_000
	// MaxRuleAddresses is how many rule.forward_to and rule.redirect_to
	// entries are kept; later ones are dropped.
	MaxRuleAddresses = maxListEntries
)

// ParseError says why a line was refused. Field is the JSON key concerned,
// "" when the line as a whole is not usable (not JSON, not UTF-8); Reason is
// meant for people and for dead-letter records.
type ParseError struct {
	Field  string
	Reason string
}

func (e *ParseError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return "field " + strconv.Quote(e.Field) + ": " + e.Reason
}

// ParseCanonical decodes one line of the canonical JSON format of DESIGN.md
// into an Event, or returns a *ParseError.
//
// Beyond the JSON grammar (exactly what encoding/json accepts) it enforces:
//   - time: RFC 3339 with a zone ("Z" or ±hh:mm), year 1970..2200 in UTC;
//     stored in UTC. Future times are valid input.
//   - user: trimmed, lowercased (Unicode simple lowercasing, no
//     normalization); not empty, no control characters, at most MaxUserLen.
//   - type: login (the default, also for "" and null), mailbox_access,
//     inbox_rule. Enumerations are matched ASCII-case-insensitively.
//   - ip: required for login; IPv4 or IPv6, zone dropped, IPv4-mapped IPv6
//     unmapped. Validated whenever present.
//   - outcome: required for login, success or failure; validated when present.
//   - reason, protocol: an unknown value becomes "other" rather than an
//     error, since sources add values faster than this list grows.
//   - items: an integer 0..MaxItems.
//   - rule: required for inbox_rule (an object); addresses are trimmed, empty
//     ones dropped, and lists capped at MaxRuleAddresses.
//   - optional strings are cut or shortened as the Max* constants say.
//
// Unknown keys are ignored. A known key given twice is an error, not "last
// wins": two readers could disagree on which user an event is about. null
// for an optional key means absent; for a required key it is an error. The
// line must be valid UTF-8. The returned Event shares no memory with line.
func ParseCanonical(line []byte) (Event, error) {
	if !utf8.Valid(line) {
		return Event{}, &ParseError{Reason: "line is not valid UTF-8"}
	}
	var (
		raw rawEvent
		d   decoder
	)
	if err := d.decode(line, &raw); err != nil {
		return Event{}, err
	}
	return raw.event()
}

// quoteValue quotes b for an error message, cut to a readable length.
func quoteValue(b []byte) string {
	const max = 64
	if len(b) <= max {
		return strconv.Quote(string(b))
	}
	return strconv.Quote(string(truncateUTF8(b, max))) + "…"
}

// truncateUTF8 cuts b to at most n bytes without splitting a UTF-8 sequence.
func truncateUTF8(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return b[:n]
}

// asciiEqualFold compares b with the lowercase ASCII word, ignoring ASCII
// case only (bytes.EqualFold would also fold the Kelvin sign into 'k').
func asciiEqualFold(b []byte, word string) bool {
	if len(b) != len(word) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != word[i] {
			return false
		}
	}
	return true
}
