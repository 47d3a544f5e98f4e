package ingest

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func addParseSeeds(f *testing.F) {
	for _, l := range genLines(30, 7) {
		f.Add(l)
	}
	for _, s := range []string{
		line(), line("type", `"inbox_rule"`, "rule", `{"name":"n","forward_to":["a@b",null],"delete":true,"move_to":"x"}`),
		line("user", `"\ud83d\ude00@x"`), line("user", `"\ud83d@x"`), line("user", `"\udc00\ud83d@x"`),
		line("user", `"\ud83dabc"`), line("user_agent", `"\"\\\/\b\f\n\r\t\u00e9"`),
		line("items", `-0`), line("items", `0.0`), line("x", `[[[[{"a":[1e5,-0.5E-3,true,false,null]}]]]]`),
		line("ip", `"::ffff:1.2.3.4%x"`), `{"a":1,}`, `{"a" 1}`, `{"a":01}`, `{"a":-}`, `{"a":1.}`,
		`{"a":tru}`, `{"a":"\u12"}`, ` {} `, "{\"a\":\"\x01\"}", `{"time":"2026-03-02T08:31:07Z","user":"\u0000"}`,
		strings.Repeat("[", 50) + strings.Repeat("]", 50),
		line("type", `"inbox_rule"`, "rule", `{"forward_to":["a",1]}`), line("items", `1E400`), line("items", `-0.0e-0`),
		line(`\u0075ser`, `"dup"`), line(`\udc00`, `"x"`), line("rule", `{"x":`+strings.Repeat("[", 20)+strings.Repeat("]", 20)+`}`),
		line("type", `"Mailbox_Access"`, "ip", `null`, "outcome", `null`, "items", `7`, "tenant", `"t\u00e9"`),
		line("user", `"\u00c9MILE@x"`, "user_agent", `"\ud83d\ude00\ud83d"`, "reason", `"locked"`, "outcome", `"failure"`),
		line("source", `{"ip":"10.0.0.1"}`), line("source", ` 3`), line("source", `null`), line("time", `"2016-12-31T23:59:60.5Z"`),
		line("user", `"\u03a3\u03c2\u212a"`),
	} {
		f.Add([]byte(s))
	}
}

// FuzzParseCanonical checks that any input gives an event or a *ParseError,
// never a panic; that accepted events keep every documented invariant; and
// that an event written back as JSON parses to itself.
func FuzzParseCanonical(f *testing.F) {
	addParseSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseCanonical(data)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error %T %v is not a *ParseError", err, err)
			}
			return
		}
		checkInvariants(t, e)
		out, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := ParseCanonical(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if !reflect.DeepEqual(e, again) {
			t.Fatalf("round trip changed the event:\n%+v\n%+v", e, again)
		}
	})
}

func checkInvariants(t *testing.T, e Event) {
	t.Helper()
	if e.Time.Location().String() != "UTC" || e.Time.Year() < minYear || e.Time.Year() > maxYear {
		t.Errorf("time %v", e.Time)
	}
	if e.User == "" || len(e.User) > MaxUserLen || e.User != strings.TrimSpace(e.User) ||
		strings.IndexFunc(e.User, unicode.IsControl) >= 0 || !utf8.ValidString(e.User) {
		t.Errorf("user %q", e.User)
	}
	switch e.Type {
	case TypeLogin:
		if !e.IP.IsValid() || (e.Outcome != OutcomeSuccess && e.Outcome != OutcomeFailure) {
			t.Errorf("login without ip or outcome: %+v", e)
		}
	case TypeMailboxAccess:
	case TypeInboxRule:
		if e.Rule == nil {
			t.Errorf("inbox_rule without rule")
		}
	default:
		t.Errorf("type %q", e.Type)
	}
	if e.IP.IsValid() && (e.IP.Zone() != "" || e.IP.Is4In6()) {
		t.Errorf("ip %v", e.IP)
	}
	if e.Items < 0 || e.Items > MaxItems {
		t.Errorf("items %d", e.Items)
	}
	if len(e.UserAgent) > MaxUserAgentLen || len(e.SessionID) > MaxIDLen || len(e.DeviceID) > MaxIDLen ||
		len(e.ID) > MaxIDLen || len(e.Tenant) > MaxIDLen || len(e.Source) > MaxIDLen {
		t.Errorf("over-long field in %+v", e)
	}
	for _, s := range []string{e.UserAgent, e.SessionID, e.DeviceID, e.ID, e.Tenant, e.Source} {
		if !utf8.ValidString(s) {
			t.Errorf("invalid UTF-8 %q", s)
		}
	}
	if r := e.Rule; r != nil {
		if len(r.Name) > MaxRuleTextLen || len(r.MoveTo) > MaxRuleTextLen ||
			len(r.ForwardTo) > MaxRuleAddresses || len(r.RedirectTo) > MaxRuleAddresses {
			t.Errorf("rule %+v", r)
		}
		for _, a := range append(r.ForwardTo, r.RedirectTo...) {
			if a == "" || len(a) > MaxAddressLen {
				t.Errorf("address %q", a)
			}
		}
	}
}

// FuzzDecoderAgrees holds the hand-written JSON decoder to parseReference,
// built on encoding/json: both must accept the same lines and produce the
// same events.
func FuzzDecoderAgrees(f *testing.F) {
	addParseSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		got, gotErr := ParseCanonical(data)
		want, wantErr := parseReference(data)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("%q:\nhand-written: %v\nreference:    %v", data, gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\nhand-written: %+v\nreference:    %+v", data, got, want)
		}
	})
}

func TestDecoderNestingLimit(t *testing.T) {
	for _, depth := range []int{maxNesting - 1, maxNesting, maxNesting + 1} {
		inner := depth - 1 // the top-level object is one level
		s := line("x", strings.Repeat("[", inner)+strings.Repeat("]", inner))
		_, err := ParseCanonical([]byte(s))
		if (err == nil) != json.Valid([]byte(s)) {
			t.Errorf("depth %d: ParseCanonical error %v, json.Valid %v", depth, err, json.Valid([]byte(s)))
		}
	}
}

func TestHasEscapeOrControl(t *testing.T) {
	naive := func(b []byte) bool {
		for _, c := range b {
			if c == '\\' || c < 0x20 {
				return true
			}
		}
		return false
	}
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 40)
	for i := range 200000 {
		n := rng.IntN(len(buf))
		for j := range n {
			buf[j] = byte(rng.IntN(256))
			if i%2 == 0 && buf[j] < 0x20 || buf[j] == '\\' {
				buf[j] = 'a' + byte(j%26) // mostly plain, some special
			}
		}
		if i%3 == 0 && n > 0 {
			buf[rng.IntN(n)] = byte(rng.IntN(0x21))
		}
		if got, want := hasEscapeOrControl(buf[:n]), naive(buf[:n]); got != want {
			t.Fatalf("%q: got %v, want %v", buf[:n], got, want)
		}
	}
	for c := range 256 {
		for pos := range 40 {
			b := []byte(strings.Repeat("\xff", 40))
			b[pos] = byte(c)
			if got, want := hasEscapeOrControl(b), naive(b); got != want {
				t.Fatalf("byte %#x at %d: got %v", c, pos, got)
			}
		}
	}
}

func TestParseTimeAgreesWithTimePackage(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		s := []byte("2026-03-02T08:31:07.123Z")
		for range 1 + rng.IntN(3) {
			s[rng.IntN(len(s))] = "0123456789+-:.Z"[rng.IntN(15)]
		}
		mine, err := parseTime(s)
		std, stdErr := timeParseStrict(string(s))
		if (err == nil) != (stdErr == nil) || (err == nil && !mine.Equal(std)) {
			t.Fatalf("%s: parseTime %v %v, time.Parse %v %v", s, mine, err, std, stdErr)
		}
	}
}

var rfc3339Shape = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$`)

// timeParseStrict is the reference for parseTime: time.Parse on the strict
// RFC 3339 shape, in UTC, within the accepted years.
func timeParseStrict(s string) (time.Time, error) {
	if !rfc3339Shape.MatchString(s) {
		return time.Time{}, errors.New("not RFC 3339")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, err
	}
	if t = t.UTC(); t.Year() < minYear || t.Year() > maxYear {
		return time.Time{}, errors.New("year out of range")
	}
	return t, nil
}

func TestDaysSinceEpoch(t *testing.T) {
	for d := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2210; d = d.AddDate(0, 0, 1) {
		if got, want := daysSinceEpoch(d.Year(), int(d.Month()), d.Day()), d.Unix()/86400; got != want {
			t.Fatalf("%s: %d, want %d", d.Format(time.DateOnly), got, want)
		}
	}
}
