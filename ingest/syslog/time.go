package syslog

import (
	"time"
)

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// bsdTime reads an RFC 3164 timestamp, "Mmm dd hh:mm:ss" with the day
// padded by a space or a zero (or not at all), optionally with a fraction
// of a second, and returns it with the number of bytes read.
func (p *Parser) bsdTime(b []byte) (time.Time, int, bool) {
	if len(b) < 14 || b[3] != ' ' {
		return time.Time{}, 0, false
	}
	month := time.Month(0)
	for i, m := range months {
		if string(b[:3]) == m {
			month = time.Month(i + 1)
			break
		}
	}
	if month == 0 {
		return time.Time{}, 0, false
	}
	i := 4
	if b[i] == ' ' {
		i++
	}
	day, n := digits(b[i:], 2)
	if n == 0 || day < 1 || day > 31 {
		return time.Time{}, 0, false
	}
	i += n
	if i >= len(b) || b[i] != ' ' {
		return time.Time{}, 0, false
	}
	i++
	hour, minute, sec, nsec, n, ok := clock(b[i:])
	if !ok {
		return time.Time{}, 0, false
	}
	i += n
	year := p.inferYear(month, day)
	t := time.Date(year, month, day, hour, minute, sec, nsec, p.loc)
	if t.Day() != day { // February 29th of a year that has none
		return time.Time{}, 0, false
	}
	return t, i, true
}

// inferYear gives a year-less date its year (see Options.Now).
func (p *Parser) inferYear(month time.Month, day int) int {
	if p.year == 0 {
		if p.opt.Year != 0 {
			p.year = p.opt.Year
		} else {
			now := p.opt.now().In(p.loc)
			p.year = now.Year()
			if time.Date(p.year, month, day, 0, 0, 0, 0, p.loc).After(now.AddDate(0, 0, 7)) {
				p.year--
			}
		}
		if month == time.February && day == 29 {
			for !isLeap(p.year) {
				p.year--
			}
		}
		p.month = month
		return p.year
	}
	switch {
	case month < p.month-6: // December, then January: a new year
		p.year++
		p.month = month
	case month > p.month+6: // a late line from last year; the stream stays
		return p.year - 1
	case month > p.month:
		p.month = month
	}
	return p.year
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// clock reads "hh:mm:ss" and an optional ".fraction".
func clock(b []byte) (hour, minute, sec, nsec, n int, ok bool) {
	if len(b) < 8 || b[2] != ':' || b[5] != ':' {
		return 0, 0, 0, 0, 0, false
	}
	var h, m, s int
	if h, n = digits(b[0:2], 2); n != 2 || h > 23 {
		return 0, 0, 0, 0, 0, false
	}
	if m, n = digits(b[3:5], 2); n != 2 || m > 59 {
		return 0, 0, 0, 0, 0, false
	}
	if s, n = digits(b[6:8], 2); n != 2 || s > 60 {
		return 0, 0, 0, 0, 0, false
	}
	if s == 60 { // a leap second: the last instant of the minute
		s, nsec = 59, 999_999_999
	}
	n = 8
	if len(b) > n+1 && (b[n] == '.' || b[n] == ',') && isDigit(b[n+1]) {
		n++
		scale := 100_000_000
		for n < len(b) && isDigit(b[n]) {
			if scale > 0 {
				nsec += int(b[n]-'0') * scale
				scale /= 10
			}
			n++
		}
	}
	return h, m, s, nsec, n, true
}

// digits reads up to max decimal digits.
func digits(b []byte, max int) (v, n int) {
	for n < len(b) && n < max && isDigit(b[n]) {
		v = v*10 + int(b[n]-'0')
		n++
	}
	return v, n
}

// parseRFC3339 reads an RFC 3339 timestamp with a zone; "+0100" is
// accepted for "+01:00", as some templates write it.
func parseRFC3339(b []byte) (time.Time, error) {
	s := string(b)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil && len(s) > 5 && (s[len(s)-5] == '+' || s[len(s)-5] == '-') {
		t, err = time.Parse("2006-01-02T15:04:05.999999999-0700", s)
	}
	return t, err
}

// parseLocalISO reads "YYYY-MM-DD hh:mm:ss[.frac]" in loc.
func parseLocalISO(b []byte, loc *time.Location) (time.Time, bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || b[10] != ' ' {
		return time.Time{}, false
	}
	year, n1 := digits(b[0:4], 4)
	month, n2 := digits(b[5:7], 2)
	day, n3 := digits(b[8:10], 2)
	if n1 != 4 || n2 != 2 || n3 != 2 || month < 1 || month > 12 || day < 1 || day > 31 {
		return time.Time{}, false
	}
	h, m, s, ns, n, ok := clock(b[11:])
	if !ok || 11+n != len(b) {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, h, m, s, ns, loc)
	return t, t.Day() == day
}
