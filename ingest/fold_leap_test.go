package ingest

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// A name in lower case stays as it is when folded: the first foldRune
// took each case-folding orbit's least member, which for Greek iota is
// U+0345 COMBINING GREEK YPOGEGRAMMENI and for mu U+00B5 MICRO SIGN, so
// "ιωάννα" became "\u0345ωάννα", a name that is not the account's.
func TestFoldKeepsLowerCaseGreek(t *testing.T) {
	for _, name := range []string{
		"ιωάννα@example.gr", // iota
		"μαρία@example.gr",  // mu
		"ꙋ@example.org",     // Cyrillic monograph uk, lower case already
	} {
		e, err := ParseCanonical([]byte(`{"time":"2026-03-02T08:31:07Z","user":"` + name + `","ip":"192.0.2.1","outcome":"success"}`))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if e.User != name {
			r, _ := utf8.DecodeRuneInString(e.User)
			t.Errorf("lower-case user %q normalised to %q (first rune %U): not the account's name", name, e.User, r)
		}
	}
	// The upper-case spellings must still meet the lower-case ones.
	for _, p := range [][2]string{{"ΙΩΆΝΝΑ@example.gr", "ιωάννα@example.gr"}, {"ΜΑΡΊΑ@example.gr", "μαρία@example.gr"}} {
		if !strings.EqualFold(p[0], p[1]) {
			t.Fatalf("test bug: %q %q", p[0], p[1])
		}
		a, _ := ParseCanonical([]byte(`{"time":"2026-03-02T08:31:07Z","user":"` + p[0] + `","ip":"192.0.2.1","outcome":"success"}`))
		if a.User != p[1] {
			t.Errorf("user %q normalised to %q, want %q", p[0], a.User, p[1])
		}
	}
}

// Leap seconds at the years' bounds and with offsets and fractions:
// 23:59:60 is the next minute's first second, so the last leap second of
// 2200 is 2201 and refused, and one at the end of 1969 is 1970's first
// instant; every accepted time reads back the same through RFC 3339.
func TestLeapSecondBounds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" for refused
	}{
		{"2016-12-31T18:59:60-05:00", "2017-01-01T00:00:00Z"},
		{"2016-12-31T23:59:60.999999999999Z", "2017-01-01T00:00:00.999999999Z"},
		{"2016-12-31t23:59:60z", "2017-01-01T00:00:00Z"},
		{"1969-12-31T23:59:60Z", "1970-01-01T00:00:00Z"},
		{"1969-12-31T23:59:59Z", ""},
		{"2200-12-31T23:59:59.5Z", "2200-12-31T23:59:59.5Z"},
		{"2200-12-31T23:59:60Z", ""},
		{"2016-12-31T23:59:61Z", ""},
		{"2016-12-31T23:60:00Z", ""},
	} {
		got, err := ParseTime(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%s: %v, want refused", tc.in, got)
		case tc.want != "" && err != nil:
			t.Errorf("%s: %v, want %s", tc.in, err, tc.want)
		case tc.want != "" && got.Format(time.RFC3339Nano) != tc.want:
			t.Errorf("%s: %s, want %s", tc.in, got.Format(time.RFC3339Nano), tc.want)
		case err == nil:
			if back, err := ParseTime(got.Format(time.RFC3339Nano)); err != nil || !back.Equal(got) {
				t.Errorf("%s: %v does not read back: %v %v", tc.in, got, back, err)
			}
		}
	}
}
