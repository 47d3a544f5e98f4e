package syslog

import (
	"strings"
	"testing"

	"github.com/atod-project/atod/detector"
)

// FuzzCEF checks that no alert field can break out of its place: the
// record stays on one line, the header keeps its eight fields, and the
// account name reads back exactly from the extension.
func FuzzCEF(f *testing.F) {
	f.Add("anna@example.org", "brute_force", "12 failures", "95.24.0.7")
	f.Add("x=y\\z\nmsg=forged", "a|b", "r\\|=\r\n", "2001:db8::1")
	f.Fuzz(func(t *testing.T, user, rule, reason, ip string) {
		out := CEF(detector.Alert{User: user, Rule: rule, Reasons: []string{reason}, IP: ip, Score: 50}, "1")
		if strings.ContainsAny(out, "\r\n") {
			t.Fatalf("line break in %q", out)
		}
		fields := splitUnescaped(out, '|')
		if len(fields) != 8 {
			t.Fatalf("%d header fields in %q", len(fields), out)
		}
		if user == "" {
			return
		}
		ext := fields[7]
		got, ok := extValue(ext, "duser")
		if !ok || got != user {
			t.Fatalf("duser read back %q (%v), want %q from %q", got, ok, user, ext)
		}
	})
}

// splitUnescaped splits s at sep where sep is not escaped by a backslash,
// stopping after the header's seven separators.
func splitUnescaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s) && len(out) < 7; i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// extValue reads key's value from a CEF extension: values run to the
// space before the next unescaped key=.
func extValue(ext, key string) (string, bool) {
	type kv struct{ k, v string }
	var pairs []kv
	var cur strings.Builder
	var curKey string
	for i := 0; i < len(ext); i++ {
		c := ext[i]
		if c == '\\' && i+1 < len(ext) {
			switch ext[i+1] {
			case 'n':
				cur.WriteByte('\n')
			case 'r':
				cur.WriteByte('\r')
			default:
				cur.WriteByte(ext[i+1])
			}
			i++
			continue
		}
		if c == '=' {
			// the key is the last space-separated word before '='
			s := cur.String()
			sp := strings.LastIndexByte(s, ' ')
			if curKey != "" {
				pairs = append(pairs, kv{curKey, s[:max(sp, 0)]})
			}
			curKey = s[sp+1:]
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	pairs = append(pairs, kv{curKey, cur.String()})
	for _, p := range pairs {
		if p.k == key {
			return p.v, true
		}
	}
	return "", false
}
