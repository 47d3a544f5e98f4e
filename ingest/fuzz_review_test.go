package ingest

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzReviewCSVObject: the header and rows of an admin portal CSV export
// are untrusted. ParseCSVHeader and Object give a result or an error,
// never a panic; an Object is a valid JSON object, valid UTF-8, holding
// exactly the row's non-empty columns that have a name, in order, each
// under its trimmed header name.
func FuzzReviewCSVObject(f *testing.F) {
	f.Add([]byte("\xef\xbb\xbfTimeGenerated [UTC],UserPrincipalName, IPAddress "), []byte(`3/2/2026 8:31:07 AM,a@b.org,"192.0.2.1"`))
	f.Add([]byte(`a,"b""c",,d`), []byte("1,\"x\ny\",,\"\r\n\""))
	f.Add([]byte("a,b"), []byte("1,2,3"))
	f.Add([]byte("a,a"), []byte("\xff,\x00"))
	f.Add([]byte(`"a`), []byte(`b"`))
	f.Fuzz(func(t *testing.T, header, row []byte) {
		h, err := ParseCSVHeader(header)
		if err != nil {
			return
		}
		for _, n := range h.names {
			if n != strings.TrimSpace(n) {
				t.Fatalf("header name %q not trimmed", n)
			}
		}
		obj, err := h.Object(row)
		if err != nil {
			return
		}
		if !json.Valid(obj) || !utf8.Valid(obj) {
			t.Fatalf("Object(%q) under %q = %q: not valid JSON / UTF-8", row, header, obj)
		}
		fields, err := SplitCSV(row)
		if err != nil {
			t.Fatalf("Object accepted %q, SplitCSV refuses it: %v", row, err)
		}
		dec := json.NewDecoder(bytes.NewReader(obj))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			t.Fatalf("Object %q does not start an object", obj)
		}
		i := 0
		for dec.More() {
			kt, err1 := dec.Token()
			vt, err2 := dec.Token()
			if err1 != nil || err2 != nil {
				t.Fatalf("Object %q: %v %v", obj, err1, err2)
			}
			k, v := kt.(string), vt.(string)
			for i < len(fields) && (fields[i] == "" || h.names[i] == "") {
				i++
			}
			if i == len(fields) {
				t.Fatalf("Object %q has more members than %q has non-empty columns", obj, fields)
			}
			if utf8.ValidString(h.names[i]) && k != h.names[i] {
				t.Fatalf("column %d named %q in %q, header says %q", i, k, obj, h.names[i])
			}
			if utf8.ValidString(fields[i]) && v != fields[i] {
				t.Fatalf("column %d is %q in %q, row says %q", i, v, obj, fields[i])
			}
			i++
		}
		for ; i < len(fields); i++ {
			if fields[i] != "" && h.names[i] != "" {
				t.Fatalf("Object %q lost column %d (%q) of %q", obj, i, fields[i], row)
			}
		}
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
		if _, err := dec.Token(); err != io.EOF {
			t.Fatalf("Object %q: more after the object", obj)
		}
	})
}

// FuzzReviewParseAddr: an address of any sign-in log. What ParseAddr
// accepts is a valid address without zone, never IPv4-mapped, that reads
// back the same from its own text and with a port; what it refuses gets a
// short error.
func FuzzReviewParseAddr(f *testing.F) {
	for _, s := range []string{"192.0.2.1", " [2001:db8::1]:443 ", "[::ffff:1.2.3.4]", "1.2.3.4:80", "fe80::1%eth0",
		"[fe80::1%eth0]:1", "::ffff:1.2.3.4%x", "1.2.3.4:", "[1.2.3.4]", "[", "]", "01.2.3.4", "1.2.3.4:123456"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ip, err := ParseAddr(s)
		if err != nil {
			if ip.IsValid() {
				t.Fatalf("%q: %v with address %v", s, err, ip)
			}
			if len(err.Error()) > 400 {
				t.Fatalf("%q: error of %d bytes", s, len(err.Error()))
			}
			return
		}
		if !ip.IsValid() || ip.Zone() != "" || ip.Is4In6() {
			t.Fatalf("ParseAddr(%q) = %v", s, ip)
		}
		for _, again := range []string{ip.String(), "[" + ip.String() + "]", "[" + ip.String() + "]:443"} {
			if got, err := ParseAddr(again); err != nil || got != ip {
				t.Fatalf("ParseAddr(%q) = %v, but ParseAddr(%q) = %v, %v", s, ip, again, got, err)
			}
		}
		if ip.Is4() {
			if got, err := ParseAddr(ip.String() + ":80"); err != nil || got != ip {
				t.Fatalf("%v with a port: %v, %v", ip, got, err)
			}
		}
	})
}

// FuzzReviewParseUTCTime: a time of a source documented as UTC. What
// ParseUTCTime accepts is in UTC, within the years 1970 to 2200 (as
// ParseCanonical's), and reads back the same from its RFC 3339 text.
func FuzzReviewParseUTCTime(f *testing.F) {
	for _, s := range []string{"2026-03-02T08:31:07Z", "2015-06-29T20:03:19", "3/2/2026, 8:31:07.250 AM", "3/2/2026 8:31:07 PM",
		"12/31/2200 23:59:59", "1/1/1970 00:00:00", "2200-12-31T23:59:59.999999999", "2026-03-02T08:31:07+01:00",
		"1970-01-01T00:00:00+00:01", "2026-03-02T08:31:07.", "  2026-03-02T08:31:07-  ", "1/2/2006 15:04:05 +0100"} {
		f.Add(s)
	}
	lo, hi := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2201, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseUTCTime(s)
		if err != nil {
			if !tm.IsZero() {
				t.Fatalf("%q: %v with time %v", s, err, tm)
			}
			if len(err.Error()) > 400 {
				t.Fatalf("%q: error of %d bytes", s, len(err.Error()))
			}
			return
		}
		if tm.Location() != time.UTC {
			t.Fatalf("ParseUTCTime(%q) = %v, not in UTC", s, tm)
		}
		if tm.Before(lo) || !tm.Before(hi) {
			t.Fatalf("ParseUTCTime(%q) = %v, outside the years 1970 to 2200", s, tm)
		}
		text := tm.Format(time.RFC3339Nano)
		if again, err := ParseUTCTime(text); err != nil || !again.Equal(tm) {
			t.Fatalf("ParseUTCTime(%q) = %v, but its text %q reads %v, %v", s, tm, text, again, err)
		}
	})
}
