package httpx

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParseRetryAfter checks that any Retry-After a server sends gives a
// wait the retry stage can use: never negative, under 1e7 seconds when it
// is a number, exactly the value for RFC 9110's delay-seconds (1*DIGIT),
// the time left until an HTTP date, and 0 for anything unreadable.
func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 3, 2, 7, 59, 30, 0, time.UTC).Unix()
	for _, v := range []string{"7", "30", "3", "0", " 5 ", "1.5", "-1", "9999999", "10000000", "1e400", "NaN", "+Inf",
		"Mon, 02 Mar 2026 08:00:00 GMT", "Monday, 02-Mar-26 08:00:00 GMT", "Mon Mar  2 08:00:00 2026",
		"Sun, 01 Mar 2026 08:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "soon", ""} {
		f.Add(v, now)
	}
	f.Fuzz(func(t *testing.T, v string, unix int64) {
		now := time.Unix(unix%(1<<34), 0) // years 1425 to 2514: wide, without overflowing time.Time
		d := ParseRetryAfter(v, now)
		if d < 0 {
			t.Fatalf("%q: negative wait %s", v, d)
		}
		trimmed := strings.TrimSpace(v)
		if s, err := strconv.ParseFloat(trimmed, 64); err == nil {
			if d >= 1e7*time.Second {
				t.Fatalf("%q: wait %s is not bounded", v, d)
			}
			if trimmed != "" && strings.Trim(trimmed, "0123456789") == "" && s < 1e7 && d != time.Duration(s)*time.Second {
				t.Fatalf("%q: wait %s, want %v seconds", v, d, s)
			}
			return
		}
		if at, err := http.ParseTime(trimmed); err == nil {
			if want := max(at.Sub(now), 0); d != want {
				t.Fatalf("%q at %s: wait %s, want %s", v, now, d, want)
			}
			return
		}
		if d != 0 {
			t.Fatalf("%q is neither seconds nor a date but gives %s", v, d)
		}
	})
}

// FuzzDateRetryAfter checks the HTTP date form from the other side: a
// date that many seconds after now, written as servers write it, reads
// back as that many seconds; one in the past as no wait at all.
func FuzzDateRetryAfter(f *testing.F) {
	now := time.Date(2026, 3, 2, 7, 59, 30, 0, time.UTC).Unix()
	f.Add(now, int32(30))
	f.Add(now, int32(-30))
	f.Add(int64(0), int32(0))
	f.Fuzz(func(t *testing.T, unix int64, ahead int32) {
		now := time.Unix(unix%(1<<34), 0)
		v := now.Add(time.Duration(ahead) * time.Second).UTC().Format(http.TimeFormat)
		if got, want := ParseRetryAfter(v, now), max(time.Duration(ahead)*time.Second, 0); got != want {
			t.Fatalf("%q at %s: wait %s, want %s", v, now, got, want)
		}
	})
}

// FuzzParseOrNot checks that a provider's parser sees every non-empty
// body and no empty one, and that its answer is handed on unchanged.
func FuzzParseOrNot(f *testing.F) {
	f.Add([]byte(`{"error":{"code":"TooManyRequests","message":"Too many requests."}}`), "TooManyRequests", "Too many requests.", true)
	f.Add([]byte(`<html>`), "", "", false)
	f.Add([]byte{}, "x", "y", true)
	f.Fuzz(func(t *testing.T, body []byte, code, msg string, ok bool) {
		called := false
		parse := func(b []byte) (string, string, bool) {
			called = true
			if string(b) != string(body) {
				t.Fatalf("parser got %q, want %q", b, body)
			}
			return code, msg, ok
		}
		gotCode, gotMsg, gotOK := parseOrNot(parse, body)
		if called != (len(body) > 0) {
			t.Fatalf("body %q: parser called %v", body, called)
		}
		if called && (gotCode != code || gotMsg != msg || gotOK != ok) {
			t.Fatalf("got %q %q %v, want %q %q %v", gotCode, gotMsg, gotOK, code, msg, ok)
		}
		if !called && (gotCode != "" || gotMsg != "" || gotOK) {
			t.Fatalf("empty body gave %q %q %v", gotCode, gotMsg, gotOK)
		}
		if c, m, o := parseOrNot(nil, body); c != "" || m != "" || o {
			t.Fatalf("no parser gave %q %q %v", c, m, o)
		}
	})
}

// FuzzSnippet checks what an error message quotes from a body: the start
// of the trimmed body, at most maxSnippet bytes and an ellipsis, and valid
// UTF-8 whenever the body was, since it ends up in log lines.
func FuzzSnippet(f *testing.F) {
	f.Add([]byte(`{"text":"Server is busy","code":9}`))
	f.Add([]byte("  <html><body>Service Unavailable</body></html>\n"))
	f.Add([]byte(strings.Repeat("x", 299) + "é and more"))
	f.Add([]byte(strings.Repeat("ü", 400)))
	f.Fuzz(func(t *testing.T, body []byte) {
		s := Snippet(body)
		trimmed := strings.TrimSpace(string(body))
		head, cut := strings.CutSuffix(s, "…")
		if !cut || len(trimmed) <= maxSnippet {
			head = s
		}
		if !strings.HasPrefix(trimmed, head) {
			t.Fatalf("snippet %q is not the start of %q", s, trimmed)
		}
		if len(head) > maxSnippet || (len(trimmed) > maxSnippet && len(head) < maxSnippet-utf8.UTFMax+1) {
			t.Fatalf("snippet of %d bytes from a body of %d", len(head), len(trimmed))
		}
		if utf8.Valid(body) && !utf8.ValidString(s) {
			t.Fatalf("snippet %q of valid UTF-8 is not valid UTF-8", s)
		}
	})
}
