package ingest

import "time"

// Event times outside these years are refused: they come from broken clocks
// or parsers, and would poison the detector's time windows.
const (
	minYear = 1970
	maxYear = 2200
)

// parseTime parses an RFC 3339 timestamp with a zone and returns it in UTC.
//
// time.Parse(time.RFC3339, ...) is not used: it also accepts one-digit hours
// and a comma before the fraction (go.dev/issue/54580), and it allocates a
// Location for every numeric offset. This parser accepts exactly
// YYYY-MM-DD('T'|'t'|' ')hh:mm:ss[.fraction]('Z'|'z'|±hh:mm) with real dates,
// seconds 00..60 and any number of fraction digits (beyond nanoseconds they
// are cut). A leap second (60, which RFC 3339 allows and time.Parse does
// not) is the first second of the next minute: Go's time has none.
func parseTime(b []byte) (time.Time, error) {
	if len(b) == 0 {
		return time.Time{}, &ParseError{Field: "time", Reason: "is required"}
	}
	bad := func(why string) (time.Time, error) {
		return time.Time{}, &ParseError{Field: "time", Reason: quoteValue(b) + why}
	}
	const layout = len("2006-01-02T15:04:05")
	if len(b) < layout || b[4] != '-' || b[7] != '-' || b[13] != ':' || b[16] != ':' ||
		(b[10] != 'T' && b[10] != 't' && b[10] != ' ') {
		return bad(" is not an RFC 3339 time")
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 60 {
		return bad(" is not an RFC 3339 time")
	}
	rest := b[layout:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		n := 1
		for n < len(rest) && isDigit(rest[n]) {
			if n <= 9 {
				nsec = nsec*10 + int(rest[n]-'0')
			}
			n++
		}
		if n == 1 {
			return bad(" is not an RFC 3339 time")
		}
		for i := n; i <= 9; i++ {
			nsec *= 10
		}
		rest = rest[n:]
	}
	offset := 0
	switch {
	case len(rest) == 0:
		return bad(" has no time zone (RFC 3339 needs Z or ±hh:mm)")
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := digits(rest[1:3])
		om, ok2 := digits(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return bad(" has an invalid time zone offset")
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return bad(" is not an RFC 3339 time")
	}
	// Years are checked in UTC: a zone may move a time across New Year.
	unix := int64(0)
	if year >= minYear-1 && year <= maxYear+1 {
		unix = daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec-offset)
	}
	if year < minYear-1 || year > maxYear+1 || unix < 0 || unix >= endOfMaxYear {
		return bad(" is outside the years 1970 to 2200")
	}
	return time.Unix(unix, int64(nsec)).UTC(), nil
}

// endOfMaxYear is 2201-01-01T00:00:00Z in Unix seconds.
const endOfMaxYear = 7289654400

// daysSinceEpoch counts the days from 1970-01-01 to a proleptic Gregorian
// date with year >= 1 (Howard Hinnant's days_from_civil). It is much cheaper
// than time.Date, which matters at a million events a second.
func daysSinceEpoch(year, month, day int) int64 {
	if month <= 2 {
		year--
	}
	era := year / 400
	yearOfEra := year - era*400
	dayOfYear := (153*((month+9)%12)+2)/5 + day - 1 // from March 1st
	dayOfEra := yearOfEra*365 + yearOfEra/4 - yearOfEra/100 + dayOfYear
	return int64(era*146097 + dayOfEra - 719468)
}

// digits parses a fixed-width decimal field.
func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
