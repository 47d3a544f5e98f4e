package ingest

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Fields is an event as a format's parser read it, before the field rules
// of the canonical schema. Event applies the same rules as ParseCanonical,
// so that events from every format look as if they had been written
// canonically: a parser maps its source's fields and vocabulary onto these
// and leaves empty what its source does not have.
type Fields struct {
	Time time.Time
	User string
	// IP may carry a port or brackets as sources write them ("[v6]:port",
	// "v4:port"); see ParseAddr.
	IP                      string
	Type, Outcome, Reason   string
	SessionID, Protocol     string
	UserAgent, DeviceID, ID string
	Tenant, Source          string
	Items                   int
	Rule                    *InboxRule
}

// Event checks f against the canonical schema and normalises it; errors are
// *ParseError naming the canonical field.
func (f *Fields) Event() (Event, error) {
	var (
		e   Event
		err error
		sb  stringArena
	)
	if f.Time.IsZero() {
		return Event{}, &ParseError{Field: "time", Reason: "is required"}
	}
	if y := f.Time.UTC().Year(); y < minYear || y > maxYear {
		return Event{}, &ParseError{Field: "time", Reason: f.Time.UTC().Format(time.RFC3339) + " is outside the years 1970 to 2200"}
	}
	e.Time = f.Time.UTC()
	user, err := normalizeUser([]byte(f.User))
	if err != nil {
		return Event{}, err
	}
	if e.Type, err = eventType([]byte(f.Type)); err != nil {
		return Event{}, err
	}
	if f.IP != "" {
		if e.IP, err = ParseAddr(f.IP); err != nil {
			return Event{}, &ParseError{Field: "ip", Reason: err.Error()}
		}
	} else if e.Type == TypeLogin {
		return Event{}, &ParseError{Field: "ip", Reason: "is required for type login"}
	}
	if e.Outcome, err = outcome([]byte(f.Outcome), e.Type == TypeLogin); err != nil {
		return Event{}, err
	}
	if f.Reason != "" {
		e.Reason = reason([]byte(f.Reason))
	}
	if f.Protocol != "" {
		e.Protocol = protocol([]byte(f.Protocol))
	}
	if f.Items < 0 || f.Items > MaxItems {
		return Event{}, &ParseError{Field: "items", Reason: strconv.Itoa(f.Items) + " is not between 0 and 1000000000"}
	}
	e.Items = f.Items
	if f.Rule == nil && e.Type == TypeInboxRule {
		return Event{}, &ParseError{Field: "rule", Reason: "is required for type inbox_rule"}
	}
	if e.Rule = cleanRule(f.Rule); e.Rule != nil && e.Type != TypeInboxRule {
		e.Rule = nil
	}
	e.User = string(user)
	ua := truncateUTF8([]byte(f.UserAgent), MaxUserAgentLen)
	sb.grow(len(ua) + idLenS(f.SessionID) + idLenS(f.DeviceID) + idLenS(f.ID) + idLenS(f.Tenant) + idLenS(f.Source))
	e.UserAgent = sb.add(ua)
	e.SessionID = sb.addID([]byte(f.SessionID))
	e.DeviceID = sb.addID([]byte(f.DeviceID))
	e.ID = sb.addID([]byte(f.ID))
	e.Tenant = sb.addID([]byte(f.Tenant))
	e.Source = sb.addID([]byte(f.Source))
	return e, nil
}

func idLenS(s string) int { return min(len(s), MaxIDLen) }

// cleanRule applies the rule limits of ParseCanonical to a copy of r.
func cleanRule(r *InboxRule) *InboxRule {
	if r == nil {
		return nil
	}
	clean := func(list []string) []string {
		var out []string
		for _, a := range list {
			if len(out) == MaxRuleAddresses {
				break
			}
			if a = strings.TrimSpace(string(truncateUTF8([]byte(strings.TrimSpace(a)), MaxAddressLen))); a != "" {
				out = append(out, a)
			}
		}
		return out
	}
	return &InboxRule{
		Name:       string(truncateUTF8([]byte(r.Name), MaxRuleTextLen)),
		ForwardTo:  clean(r.ForwardTo),
		RedirectTo: clean(r.RedirectTo),
		Delete:     r.Delete,
		MoveTo:     string(truncateUTF8([]byte(r.MoveTo), MaxRuleTextLen)),
	}
}

// ParseAddr parses a client address as sign-in logs write it: IPv4, IPv6,
// "[v6]:port", "[v6]", "v4:port", with surrounding white space. The zone
// and the port are dropped and an IPv4-mapped IPv6 address is unmapped: a
// port names a connection, not a client.
func ParseAddr(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	host := s
	switch {
	case s == "":
		return netip.Addr{}, errors.New("address is empty")
	case s[0] == '[':
		end := strings.IndexByte(s, ']')
		if end < 0 || (end+1 < len(s) && !isPort(s[end+1:])) {
			return netip.Addr{}, errors.New(quoteValue([]byte(s)) + " is not an IP address")
		}
		host = s[1:end]
	case strings.Count(s, ":") == 1 && strings.IndexByte(s, '.') >= 0:
		i := strings.IndexByte(s, ':')
		if !isPort(s[i:]) {
			return netip.Addr{}, errors.New(quoteValue([]byte(s)) + " is not an IP address")
		}
		host = s[:i]
	}
	ip, ok := parseIPv4([]byte(host))
	if !ok {
		var err error
		if ip, err = netip.ParseAddr(host); err != nil {
			return netip.Addr{}, errors.New(quoteValue([]byte(s)) + " is not an IP address")
		}
	}
	return ip.WithZone("").Unmap(), nil
}

// isPort reports whether s is ":" and 1 to 5 digits.
func isPort(s string) bool {
	if len(s) < 2 || len(s) > 6 || s[0] != ':' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
