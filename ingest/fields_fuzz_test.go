package ingest

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// ParseAddr reads client addresses from untrusted logs: whatever the
// string, an address or an error, never a panic; an address has no zone
// and is not IPv4-mapped, and writing it and parsing it again gives it
// back.
func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"192.0.2.1", " 2001:db8::1 ", "[2001:db8::1]:443", "[fe80::1%eth0]", "192.0.2.1:25",
		"::ffff:192.0.2.1", "", "[", "]:", "1.2.3.4:", "[::1]x", "\u00a0192.0.2.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddr(s)
		if err != nil {
			return
		}
		if !a.IsValid() || a.Zone() != "" || a.Is4In6() {
			t.Fatalf("ParseAddr(%q) = %v: zone, mapped or invalid", s, a)
		}
		if b, err := ParseAddr(a.String()); err != nil || b != a {
			t.Fatalf("ParseAddr(%q) = %v, which reads back as %v, %v", s, a, b, err)
		}
		if _, err := netip.ParseAddr(a.String()); err != nil {
			t.Fatal(err)
		}
	})
}

// ParseTime and ParseUTCTime read timestamps from untrusted logs: a time
// in UTC or an error, never a panic; a time written back in RFC 3339 reads
// as the same instant.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-03-02T08:31:07.25Z", "2026-03-02T08:31:07+01:00", "2026-03-02T08:31:07",
		"2026-03-02 08:31:07", "9999-12-31T23:59:59.999999999Z", "0000-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "T", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, parse := range map[string]func(string) (time.Time, error){"ParseTime": ParseTime, "ParseUTCTime": ParseUTCTime} {
			tm, err := parse(s)
			if err != nil {
				continue
			}
			if tm.Location() != time.UTC {
				t.Fatalf("%s(%q) = %v: not UTC", name, s, tm)
			}
			back, err := ParseTime(tm.Format(time.RFC3339Nano))
			if err != nil || !back.Equal(tm) {
				t.Fatalf("%s(%q) = %v, which reads back as %v, %v", name, s, tm, back, err)
			}
		}
	})
}

// HasKey looks into untrusted records for format sniffing: never a panic,
// and on a valid JSON object it agrees with a real decoder about the
// top-level members (it may also find deeper ones).
func FuzzHasKey(f *testing.F) {
	f.Add([]byte(`{"userPrincipalName":"a","x":{"CreationTime":1}}`), "CreationTime")
	f.Add([]byte(`{"a":"\"CreationTime\":1"}`), "CreationTime")
	f.Add([]byte(`{"k" : 1}`), "k")
	f.Add([]byte(`not json "k":`), "k")
	f.Fuzz(func(t *testing.T, rec []byte, key string) {
		got := HasKey(rec, key)
		var top map[string]json.RawMessage
		if key == "" || len(key) > 64 || strings.ContainsAny(key, "\"\\") || json.Unmarshal(rec, &top) != nil ||
			!json.Valid(rec) || bytes.ContainsAny(rec, "\\\ufffd") { // escapes: HasKey matches the raw name
			return
		}
		if _, ok := top[key]; ok && !got {
			t.Fatalf("HasKey(%q, %q) = false, but it is a top-level member", rec, key)
		}
	})
}
