package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// event applies the field rules of ParseCanonical to what the JSON layer read.
func (r *rawEvent) event() (Event, error) {
	var (
		e   Event
		err error
		sb  stringArena
	)
	if e.Time, err = parseTime(r.time); err != nil {
		return Event{}, err
	}
	user, err := normalizeUser(r.user)
	if err != nil {
		return Event{}, err
	}
	if e.Type, err = eventType(r.typ); err != nil {
		return Event{}, err
	}
	if e.IP, err = parseIP(r.ip, e.Type == TypeLogin); err != nil {
		return Event{}, err
	}
	if e.Outcome, err = outcome(r.outcome, e.Type == TypeLogin); err != nil {
		return Event{}, err
	}
	if len(r.reason) > 0 {
		e.Reason = reason(r.reason)
	}
	if len(r.protocol) > 0 {
		e.Protocol = protocol(r.protocol)
	}
	if r.hasItems {
		if r.items < 0 || r.items > MaxItems {
			return Event{}, &ParseError{Field: "items", Reason: strconv.FormatInt(r.items, 10) + " is not between 0 and 1000000000"}
		}
		e.Items = int(r.items)
	}
	if !r.rule.present && e.Type == TypeInboxRule {
		return Event{}, &ParseError{Field: "rule", Reason: "is required for type inbox_rule"}
	}

	// One allocation holds the strings of the event, the user included:
	// each allocation costs the parser and, with a large detector heap,
	// brings the next collection closer. Values that most events share
	// (user agent, tenant, source) come from an intern table instead. The
	// price is that a string the detector keeps (the user as a key, the id
	// as evidence) keeps the whole block, under 100 bytes for most events.
	ua := truncateUTF8(r.userAgent, MaxUserAgentLen)
	sb.grow(len(user) + arenaLen(ua) + idLen(r.sessionID) + idLen(r.device) + idLen(r.id) + arenaIDLen(r.tenant) + arenaIDLen(r.source))
	e.User = sb.add(user)
	e.UserAgent = sb.addRepeated(ua)
	e.SessionID = sb.addID(r.sessionID)
	e.DeviceID = sb.addID(r.device)
	e.ID = sb.addID(r.id)
	e.Tenant = sb.addRepeatedID(r.tenant)
	e.Source = sb.addRepeatedID(r.source)
	if r.rule.present {
		e.Rule = r.rule.inboxRule()
	}
	return e, nil
}

// normalizeUser trims and lowercases a user name so that the detector can
// compare accounts byte for byte.
func normalizeUser(b []byte) ([]byte, error) {
	if b == nil {
		return nil, &ParseError{Field: "user", Reason: "is required"}
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, &ParseError{Field: "user", Reason: "is empty"}
	}
	ascii, lower := true, true
	for _, c := range b {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		if c < 0x20 || c == 0x7f {
			return nil, &ParseError{Field: "user", Reason: quoteValue(b) + " contains a control character"}
		}
		if 'A' <= c && c <= 'Z' {
			lower = false
		}
	}
	switch {
	case ascii && lower:
	case ascii:
		b = asciiLower(b)
	default:
		for _, r := range string(b) {
			if unicode.IsControl(r) {
				return nil, &ParseError{Field: "user", Reason: quoteValue(b) + " contains a control character"}
			}
		}
		b = bytes.Map(foldRune, b)
	}
	if len(b) > MaxUserLen {
		return nil, &ParseError{Field: "user", Reason: "is longer than 512 bytes"}
	}
	return b, nil
}

// FoldUser is a user name as events name the account (trimmed and case
// folded, as normalizeUser does), for names written elsewhere: config lists
// such as detector.policy.never_revoke must match the events' spelling.
func FoldUser(s string) string {
	return string(bytes.Map(foldRune, bytes.TrimSpace([]byte(s))))
}

// foldRune maps the runes that case folding takes for one (Σ σ ς; K, k
// and the Kelvin sign) to one, the lower case of their upper case, so
// that names equal under strings.EqualFold, as DESIGN.md compares them,
// are one account, and a name in lower case stays as it is. bytes.ToLower
// kept final sigma apart from sigma; the least rune of each case-folding
// orbit made ι a combining mark and μ the micro sign.
func foldRune(r rune) rune {
	f := unicode.ToLower(unicode.ToUpper(r))
	if f == r || sameFold(r, f) {
		return f
	}
	return unicode.ToLower(r) // dotless ı: its upper case is I, but it is not i
}

// sameFold reports whether a and b are in one case-folding orbit.
func sameFold(a, b rune) bool {
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}

func asciiLower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

func eventType(b []byte) (string, error) {
	switch {
	case len(b) == 0 || asciiEqualFold(b, TypeLogin):
		return TypeLogin, nil
	case asciiEqualFold(b, TypeMailboxAccess):
		return TypeMailboxAccess, nil
	case asciiEqualFold(b, TypeInboxRule):
		return TypeInboxRule, nil
	}
	return "", &ParseError{Field: "type", Reason: quoteValue(b) + " is not one of login, mailbox_access, inbox_rule"}
}

func parseIP(b []byte, required bool) (netip.Addr, error) {
	if len(b) == 0 {
		if required {
			return netip.Addr{}, &ParseError{Field: "ip", Reason: "is required for type login"}
		}
		return netip.Addr{}, nil
	}
	ip, ok := parseIPv4(b)
	var err error
	if !ok {
		ip, err = netip.ParseAddr(string(b))
	}
	if err != nil {
		return netip.Addr{}, &ParseError{Field: "ip", Reason: quoteValue(b) + " is not an IP address"}
	}
	// A zone names an interface of the logging host, not part of the
	// client's identity; a mapped IPv4 address is the IPv4 client.
	return ip.WithZone("").Unmap(), nil
}

// parseIPv4 parses dotted-quad IPv4 exactly as netip.ParseAddr does, without
// the string conversion that costs an allocation per event. ok is false for
// anything else, which then goes to netip.ParseAddr.
func parseIPv4(b []byte) (ip netip.Addr, ok bool) {
	var quad [4]byte
	part, val, digitsSeen := 0, 0, 0
	for i, c := range b {
		switch {
		case isDigit(c):
			if digitsSeen == 1 && val == 0 {
				return netip.Addr{}, false // leading zero
			}
			val = val*10 + int(c-'0')
			digitsSeen++
			if val > 255 {
				return netip.Addr{}, false
			}
		case c == '.' && digitsSeen > 0 && part < 3 && i < len(b)-1:
			quad[part] = byte(val)
			part, val, digitsSeen = part+1, 0, 0
		default:
			return netip.Addr{}, false
		}
	}
	if part != 3 || digitsSeen == 0 {
		return netip.Addr{}, false
	}
	quad[3] = byte(val)
	return netip.AddrFrom4(quad), true
}

func outcome(b []byte, required bool) (string, error) {
	switch {
	case len(b) == 0 && required:
		return "", &ParseError{Field: "outcome", Reason: "is required for type login"}
	case len(b) == 0:
		return "", nil
	case asciiEqualFold(b, OutcomeSuccess):
		return OutcomeSuccess, nil
	case asciiEqualFold(b, OutcomeFailure):
		return OutcomeFailure, nil
	}
	return "", &ParseError{Field: "outcome", Reason: quoteValue(b) + " is not success or failure"}
}

func reason(b []byte) string {
	for _, w := range [...]string{ReasonBadPassword, ReasonUnknownUser, ReasonMFADenied, ReasonMFATimeout, ReasonLocked} {
		if asciiEqualFold(b, w) {
			return w
		}
	}
	return ReasonOther
}

func protocol(b []byte) string {
	for _, w := range [...]string{"web", "imap", "pop3", "smtp", "activesync", "ews", "mapi", "graph"} {
		if asciiEqualFold(b, w) {
			return w
		}
	}
	return "other"
}

func (r *rawRule) inboxRule() *InboxRule {
	return &InboxRule{
		Name:       string(truncateUTF8(r.name, MaxRuleTextLen)),
		ForwardTo:  addresses(r.forwardTo),
		RedirectTo: addresses(r.redirectTo),
		Delete:     r.delete,
		MoveTo:     string(truncateUTF8(r.moveTo, MaxRuleTextLen)),
	}
}

func addresses(list [][]byte) []string {
	var out []string
	for _, a := range list {
		// Cut before trimming, so that the result is stable when parsed again.
		if a = bytes.TrimSpace(truncateUTF8(bytes.TrimSpace(a), MaxAddressLen)); len(a) > 0 {
			out = append(out, string(a))
		}
	}
	return out
}

// stringArena builds several strings in one allocation.
type stringArena struct {
	b strings.Builder
}

func (a *stringArena) grow(n int) { a.b.Grow(n) }

// add appends b and returns it as a string that shares the arena's memory.
func (a *stringArena) add(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	start := a.b.Len()
	a.b.Write(b)
	return a.b.String()[start:]
}

func idLen(b []byte) int { return min(len(b), MaxIDLen) }

// arenaLen and arenaIDLen are what addRepeated and addRepeatedID take from
// the arena: nothing for a value the intern table keeps.
func arenaLen(b []byte) int {
	if len(b) <= maxInterned {
		return 0
	}
	return len(b)
}

func arenaIDLen(b []byte) int { return min(arenaLen(b), MaxIDLen) }

// addRepeated adds a value that most events share (a user agent), from the
// intern table when it is short enough to be kept there.
func (a *stringArena) addRepeated(b []byte) string {
	if len(b) <= maxInterned {
		return fieldValues.intern(b)
	}
	return a.add(b)
}

// addRepeatedID is addRepeated for an identifier (see addID).
func (a *stringArena) addRepeatedID(b []byte) string {
	if len(b) <= maxInterned {
		return fieldValues.intern(b)
	}
	return a.addID(b)
}

// addID adds an identifier, shortening one over MaxIDLen (see MaxIDLen).
func (a *stringArena) addID(b []byte) string {
	if len(b) <= MaxIDLen {
		return a.add(b)
	}
	sum := sha256.Sum256(b)
	var buf [MaxIDLen]byte
	const suffix = 1 + 32
	n := copy(buf[:], truncateUTF8(b, MaxIDLen-suffix))
	buf[n] = '~'
	n += 1 + hex.Encode(buf[n+1:], sum[:16])
	return a.add(buf[:n])
}
