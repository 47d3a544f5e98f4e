package ingest

import (
	"errors"
	"strings"
	"time"
)

// ParseTime parses an RFC 3339 timestamp with a zone, as ParseCanonical
// does, and returns it in UTC.
func ParseTime(s string) (time.Time, error) {
	t, err := parseTime([]byte(s))
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			return time.Time{}, errors.New(pe.Reason)
		}
		return time.Time{}, err
	}
	return t, nil
}

// ParseUTCTime parses a time that its format documents as UTC: RFC 3339
// (whose zone, if not Z, is honoured), the same without a zone
// ("2015-06-29T20:03:19", the Office 365 Management Activity API), and the
// US-style times of admin portal CSV exports. Use it only for such fields:
// a time without a zone is otherwise a guess.
func ParseUTCTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := ParseTime(s); err == nil {
		return t, nil
	}
	if len(s) >= len("2006-01-02T15:04:05") && s[4] == '-' && !hasZone(s) {
		if t, err := ParseTime(s + "Z"); err == nil {
			return t, nil
		}
	}
	if strings.IndexByte(s, '/') > 0 {
		// The US-style times of admin portal CSV exports ("3/2/2026,
		// 8:31:07.250 AM"); time.Parse accepts a fraction after the
		// seconds without it being in the layout.
		for _, layout := range [...]string{"1/2/2006, 3:04:05 PM", "1/2/2006 3:04:05 PM", "1/2/2006 15:04:05"} {
			if t, err := time.Parse(layout, s); err == nil {
				if y := t.Year(); y < minYear || y > maxYear {
					return time.Time{}, errors.New(quoteValue([]byte(s)) + " is outside the years 1970 to 2200")
				}
				return t.UTC(), nil
			}
		}
	}
	return time.Time{}, errors.New(quoteValue([]byte(s)) + " is not a time in a known format")
}

// hasZone reports whether an ISO 8601 time ends in Z or a numeric offset.
func hasZone(s string) bool {
	if strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "z") {
		return true
	}
	t := s[len("2006-01-02T15:04:05"):]
	return strings.ContainsAny(t, "+-")
}
