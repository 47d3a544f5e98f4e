package ingest

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// parsedUser is the account an event names user as.
func parsedUser(t *testing.T, name string) string {
	t.Helper()
	e, err := ParseCanonical([]byte(`{"time":"2026-03-02T08:31:07Z","user":"` + name + `","ip":"192.0.2.1","outcome":"success"}`))
	if err != nil {
		t.Fatalf("%q: %v", name, err)
	}
	return e.User
}

// Turkish dotless ı is lower case and not equal under strings.EqualFold to
// i, yet lower(upper(ı)) = lower(I) = i: "alı.yılmaz" and "ali.yilmaz",
// two people, become one account (their failures, networks and a
// revocation shared; the revocation names "ali.yilmaz"), as they did
// with the first lower(upper(r)) folding. ı stays ı.
func TestDotlessIStaysItsOwnAccount(t *testing.T) {
	const dotless, dotted = "alı.yılmaz@example.com.tr", "ali.yilmaz@example.com.tr"
	if strings.EqualFold(dotless, dotted) {
		t.Fatal("test bug: EqualFold")
	}
	a, b := parsedUser(t, dotless), parsedUser(t, dotted)
	if a == b {
		t.Errorf("%q and %q (not equal under strings.EqualFold) are both the account %q", dotless, dotted, a)
	}
	if a != dotless {
		t.Errorf("lower-case name %q normalised to %q", dotless, a)
	}
}

// Every rune folds into its own strings.EqualFold class (İ aside, which
// has always gone to i), runes of one class fold alike, folding is
// idempotent (FoldUser of a folded name is that name) and the result is
// valid UTF-8.
func TestFoldRuneStaysInItsClass(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		f := foldRune(r)
		if !utf8.ValidRune(f) || foldRune(f) != f {
			t.Errorf("%U folds to %U, which folds to %U", r, f, foldRune(f))
		}
		for g := unicode.SimpleFold(r); g != r; g = unicode.SimpleFold(g) {
			if foldRune(g) != f {
				t.Errorf("%U and %U (EqualFold) fold to %U and %U", r, g, f, foldRune(g))
			}
		}
		if f != r && r != 'İ' && !strings.EqualFold(string(r), string(f)) {
			t.Errorf("%U %q folds to %U %q, not equal under strings.EqualFold", r, string(r), f, string(f))
		}
	}
}

// FoldUser gives never_revoke lists the events' spelling, invalid UTF-8
// and surrounding Unicode space included.
func TestFoldUserMatchesEvents(t *testing.T) {
	for _, name := range []string{"\u00a0ΝΊΚΟΣ@Example.GR ", "Anna@EXAMPLE.org", "\u212Aarl@example.org", "STRAẞE@example.de", "a\xffB@example.org"} {
		got, err := normalizeUser([]byte(name))
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		if f := FoldUser(name); f != string(got) {
			t.Errorf("%q: FoldUser %q, events %q", name, f, got)
		}
		if !utf8.ValidString(string(got)) {
			t.Errorf("%q: events carry invalid UTF-8 %q", name, got)
		}
	}
}
