package ingest

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

const omit = "\x00omit"

// line builds a canonical line from a valid login, with keys replaced by
// raw JSON values (or removed with omit) and extra keys appended.
func line(kv ...string) string {
	defaults := [][2]string{
		{"time", `"2026-03-02T08:31:07.25Z"`},
		{"user", `"anna.koch@example.org"`},
		{"ip", `"192.0.2.1"`},
		{"outcome", `"success"`},
	}
	over := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		over[kv[i]] = kv[i+1]
	}
	var parts []string
	for _, d := range defaults {
		v := d[1]
		if o, ok := over[d[0]]; ok {
			v = o
			delete(over, d[0])
		}
		if v != omit {
			parts = append(parts, `"`+d[0]+`":`+v)
		}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if _, ok := over[kv[i]]; ok && kv[i+1] != omit {
			parts = append(parts, `"`+kv[i]+`":`+kv[i+1])
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func TestParseCanonicalFields(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name  string
		line  string
		field string // expected ParseError.Field; "ok" for success
		check func(t *testing.T, e Event)
	}{
		{"valid login", line(), "ok", func(t *testing.T, e Event) {
			want := Event{Time: time.Date(2026, 3, 2, 8, 31, 7, 250e6, time.UTC), User: "anna.koch@example.org",
				IP: netip.MustParseAddr("192.0.2.1"), Type: TypeLogin, Outcome: OutcomeSuccess}
			if e != want {
				t.Errorf("got %+v, want %+v", e, want)
			}
		}},
		// time
		{"time offset to UTC", line("time", `"2026-03-02T09:31:07+01:00"`), "ok", func(t *testing.T, e Event) {
			if !e.Time.Equal(time.Date(2026, 3, 2, 8, 31, 7, 0, time.UTC)) || e.Time.Location() != time.UTC {
				t.Errorf("time %v", e.Time)
			}
		}},
		{"time negative offset crosses day", line("time", `"2026-03-01T23:30:00-02:30"`), "ok", func(t *testing.T, e Event) {
			if !e.Time.Equal(time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)) {
				t.Errorf("time %v", e.Time)
			}
		}},
		{"time nanoseconds", line("time", `"2026-03-02T08:31:07.123456789Z"`), "ok", func(t *testing.T, e Event) {
			if e.Time.Nanosecond() != 123456789 {
				t.Errorf("ns %d", e.Time.Nanosecond())
			}
		}},
		{"time extra fraction digits cut", line("time", `"2026-03-02T08:31:07.1234567891234Z"`), "ok", func(t *testing.T, e Event) {
			if e.Time.Nanosecond() != 123456789 {
				t.Errorf("ns %d", e.Time.Nanosecond())
			}
		}},
		{"time lowercase t z", line("time", `"2026-03-02t08:31:07z"`), "ok", nil},
		{"time future is valid", line("time", `"2199-12-31T23:59:59Z"`), "ok", nil},
		{"time leap day", line("time", `"2028-02-29T00:00:00Z"`), "ok", nil},
		{"time no zone", line("time", `"2026-03-02T08:31:07"`), "time", nil},
		{"time date only", line("time", `"2026-03-02"`), "time", nil},
		{"time year 1969", line("time", `"1969-12-31T23:59:59Z"`), "time", nil},
		{"time offset pushes below 1970", line("time", `"1970-01-01T00:30:00+01:00"`), "time", nil},
		{"time year 2201", line("time", `"2201-01-01T00:00:00Z"`), "time", nil},
		{"time Feb 30", line("time", `"2026-02-30T00:00:00Z"`), "time", nil},
		{"time not leap", line("time", `"2026-02-29T00:00:00Z"`), "time", nil},
		{"time hour 24", line("time", `"2026-03-02T24:00:00Z"`), "time", nil},
		{"time second 61", line("time", `"2026-03-02T23:59:61Z"`), "time", nil},
		{"time one-digit hour", line("time", `"2026-03-02T8:31:07Z"`), "time", nil},
		{"time comma fraction", line("time", `"2026-03-02T08:31:07,5Z"`), "time", nil},
		{"time empty fraction", line("time", `"2026-03-02T08:31:07.Z"`), "time", nil},
		{"time bad offset", line("time", `"2026-03-02T08:31:07+24:00"`), "time", nil},
		{"time offset without colon", line("time", `"2026-03-02T08:31:07+0100"`), "time", nil},
		{"time unix number", line("time", `1772440267`), "time", nil},
		{"time missing", line("time", omit), "time", nil},
		{"time null", line("time", `null`), "time", nil},
		// user
		{"user trimmed and lowercased", line("user", `"  Anna.Koch@EXAMPLE.org\t"`), "ok", func(t *testing.T, e Event) {
			if e.User != "anna.koch@example.org" {
				t.Errorf("user %q", e.User)
			}
		}},
		{"user unicode lowercased", line("user", `"ÖZLEM.ŞAHİN@Example.ORG"`), "ok", func(t *testing.T, e Event) {
			if e.User != strings.ToLower("ÖZLEM.ŞAHİN@Example.ORG") {
				t.Errorf("user %q", e.User)
			}
		}},
		{"user cyrillic", line("user", `"Иван@пример.рф"`), "ok", func(t *testing.T, e Event) {
			if e.User != "иван@пример.рф" {
				t.Errorf("user %q", e.User)
			}
		}},
		{"user escaped", line("user", `"\u0041nna"`), "ok", func(t *testing.T, e Event) {
			if e.User != "anna" {
				t.Errorf("user %q", e.User)
			}
		}},
		{"user empty", line("user", `""`), "user", nil},
		{"user only spaces", line("user", `"   "`), "user", nil},
		{"user missing", line("user", omit), "user", nil},
		{"user null", line("user", `null`), "user", nil},
		{"user number", line("user", `42`), "user", nil},
		{"user control char", line("user", `"anna\u0007@example.org"`), "user", nil},
		{"user NUL", line("user", `"anna\u0000"`), "user", nil},
		{"user C1 control", line("user", `"anna\u0085x"`), "user", nil},
		{"user newline inside", line("user", `"an\nna"`), "user", nil},
		{"user 512 bytes", line("user", `"`+long(512)+`"`), "ok", nil},
		{"user 513 bytes", line("user", `"`+long(513)+`"`), "user", nil},
		// type
		{"type default", line("type", omit), "ok", func(t *testing.T, e Event) {
			if e.Type != TypeLogin {
				t.Errorf("type %q", e.Type)
			}
		}},
		{"type null means login", line("type", `null`), "ok", nil},
		{"type upper case", line("type", `"LOGIN"`), "ok", nil},
		{"type unknown", line("type", `"logout"`), "type", nil},
		{"type array", line("type", `["login"]`), "type", nil},
		{"mailbox_access without ip or outcome", line("type", `"mailbox_access"`, "ip", omit, "outcome", omit, "items", `25`), "ok",
			func(t *testing.T, e Event) {
				if e.Type != TypeMailboxAccess || e.Items != 25 || e.IP.IsValid() {
					t.Errorf("got %+v", e)
				}
			}},
		// ip
		{"ipv6", line("ip", `"2001:DB8::1"`), "ok", func(t *testing.T, e Event) {
			if e.IP != netip.MustParseAddr("2001:db8::1") {
				t.Errorf("ip %v", e.IP)
			}
		}},
		{"ipv4-mapped ipv6 unmapped", line("ip", `"::ffff:198.51.100.7"`), "ok", func(t *testing.T, e Event) {
			if e.IP != netip.MustParseAddr("198.51.100.7") || !e.IP.Is4() {
				t.Errorf("ip %v", e.IP)
			}
		}},
		{"ipv6 zone dropped", line("ip", `"fe80::1%eth0"`), "ok", func(t *testing.T, e Event) {
			if e.IP != netip.MustParseAddr("fe80::1") {
				t.Errorf("ip %v", e.IP)
			}
		}},
		{"ip 300.1.1.1", line("ip", `"300.1.1.1"`), "ip", nil},
		{"ip leading zero", line("ip", `"010.1.1.1"`), "ip", nil},
		{"ip with port", line("ip", `"192.0.2.1:443"`), "ip", nil},
		{"ip three parts", line("ip", `"192.0.2"`), "ip", nil},
		{"ip trailing dot", line("ip", `"192.0.2.1."`), "ip", nil},
		{"ip hostname", line("ip", `"mail.example.org"`), "ip", nil},
		{"ip required for login", line("ip", omit), "ip", nil},
		{"ip empty for login", line("ip", `""`), "ip", nil},
		{"ip number", line("ip", `3232235777`), "ip", nil},
		{"ip validated for other types", line("type", `"mailbox_access"`, "ip", `"nope"`), "ip", nil},
		// outcome and reason
		{"outcome required", line("outcome", omit), "outcome", nil},
		{"outcome unknown", line("outcome", `"ok"`), "outcome", nil},
		{"outcome boolean", line("outcome", `true`), "outcome", nil},
		{"reason known", line("outcome", `"failure"`, "reason", `"MFA_Denied"`), "ok", func(t *testing.T, e Event) {
			if e.Reason != ReasonMFADenied || !e.Failed() {
				t.Errorf("got %+v", e)
			}
		}},
		{"reason unknown becomes other", line("outcome", `"failure"`, "reason", `"AADSTS50126"`), "ok", func(t *testing.T, e Event) {
			if e.Reason != ReasonOther {
				t.Errorf("reason %q", e.Reason)
			}
		}},
		{"protocol unknown becomes other", line("protocol", `"NNTP"`), "ok", func(t *testing.T, e Event) {
			if e.Protocol != "other" {
				t.Errorf("protocol %q", e.Protocol)
			}
		}},
		{"protocol upper case", line("protocol", `"IMAP"`), "ok", func(t *testing.T, e Event) {
			if e.Protocol != "imap" {
				t.Errorf("protocol %q", e.Protocol)
			}
		}},
		// items
		{"items zero", line("items", `0`), "ok", nil},
		{"items max", line("items", `1000000000`), "ok", nil},
		{"items over max", line("items", `1000000001`), "items", nil},
		{"items negative", line("items", `-1`), "items", nil},
		{"items fraction", line("items", `2.5`), "items", nil},
		{"items exponent", line("items", `1e3`), "items", nil},
		{"items huge", line("items", `123456789012345678901234567890`), "items", nil},
		{"items string", line("items", `"5"`), "items", nil},
		{"items null", line("items", `null`), "ok", nil},
		// rule
		{"inbox rule", line("type", `"inbox_rule"`, "ip", omit, "outcome", omit, "rule",
			`{"name":"x","forward_to":[" Bad@Evil.example ",null,""],"redirect_to":[],"delete":true,"move_to":"RSS","extra":{"a":[1]}}`), "ok",
			func(t *testing.T, e Event) {
				r := e.Rule
				if r == nil || r.Name != "x" || len(r.ForwardTo) != 1 || r.ForwardTo[0] != "Bad@Evil.example" ||
					r.RedirectTo != nil || !r.Delete || r.MoveTo != "RSS" {
					t.Errorf("rule %+v", r)
				}
			}},
		{"inbox rule needs rule", line("type", `"inbox_rule"`), "rule", nil},
		{"inbox rule null rule", line("type", `"inbox_rule"`, "rule", `null`), "rule", nil},
		{"rule not object", line("type", `"inbox_rule"`, "rule", `"fwd"`), "rule", nil},
		{"rule forward_to string", line("type", `"inbox_rule"`, "rule", `{"forward_to":"a@b"}`), "rule.forward_to", nil},
		{"rule forward_to numbers", line("type", `"inbox_rule"`, "rule", `{"forward_to":[1]}`), "rule.forward_to", nil},
		{"rule delete string", line("type", `"inbox_rule"`, "rule", `{"delete":"yes"}`), "rule.delete", nil},
		{"rule duplicate key", line("type", `"inbox_rule"`, "rule", `{"name":"a","name":"b"}`), "rule.name", nil},
		{"rule list capped", line("type", `"inbox_rule"`, "rule", `{"forward_to":[`+strings.Repeat(`"a@b",`, 150)+`"last"]}`), "ok",
			func(t *testing.T, e Event) {
				if len(e.Rule.ForwardTo) != MaxRuleAddresses {
					t.Errorf("%d addresses", len(e.Rule.ForwardTo))
				}
			}},
		// optional strings
		{"user_agent truncated at rune boundary", line("user_agent", `"`+long(MaxUserAgentLen-1)+`é"`), "ok",
			func(t *testing.T, e Event) {
				if len(e.UserAgent) != MaxUserAgentLen-1 {
					t.Errorf("len %d", len(e.UserAgent))
				}
			}},
		{"huge user_agent", line("user_agent", `"`+long(600<<10)+`"`), "ok", func(t *testing.T, e Event) {
			if len(e.UserAgent) != MaxUserAgentLen {
				t.Errorf("len %d", len(e.UserAgent))
			}
		}},
		{"huge unknown field", line("blob", `"`+long(900<<10)+`"`), "ok", nil},
		{"huge rule name", line("type", `"inbox_rule"`, "rule", `{"name":"`+long(5000)+`","move_to":"`+long(5000)+`","forward_to":["`+long(5000)+`"]}`), "ok",
			func(t *testing.T, e Event) {
				if len(e.Rule.Name) != MaxRuleTextLen || len(e.Rule.MoveTo) != MaxRuleTextLen || len(e.Rule.ForwardTo[0]) != MaxAddressLen {
					t.Errorf("rule not cut: %d %d %d", len(e.Rule.Name), len(e.Rule.MoveTo), len(e.Rule.ForwardTo[0]))
				}
			}},
		{"long ids stay distinct", line("session_id", `"`+long(300)+`1"`, "id", `"`+long(300)+`2"`), "ok",
			func(t *testing.T, e Event) {
				if len(e.SessionID) > MaxIDLen || len(e.ID) > MaxIDLen || e.SessionID[:200] != long(200) ||
					e.SessionID[MaxIDLen-33:][1:] == e.ID[MaxIDLen-33:][1:] {
					t.Errorf("session %q id %q", e.SessionID, e.ID)
				}
			}},
		{"short ids kept", line("session_id", `"s1"`, "device_id", `"d1"`, "id", `"e1"`, "tenant", `"example.org"`, "user_agent", `"ua"`), "ok",
			func(t *testing.T, e Event) {
				if e.SessionID != "s1" || e.DeviceID != "d1" || e.ID != "e1" || e.Tenant != "example.org" || e.UserAgent != "ua" {
					t.Errorf("got %+v", e)
				}
			}},
		{"optional null is absent", line("session_id", `null`, "user_agent", `null`, "rule", `null`), "ok", nil},
		{"optional wrong type", line("session_id", `{"a":1}`), "session_id", nil},
		{"unknown fields ignored", line("x", `{"deep":[1,2,{"y":null}]}`, "User", `"other"`), "ok", func(t *testing.T, e Event) {
			if e.User != "anna.koch@example.org" {
				t.Errorf("user %q", e.User)
			}
		}},
		{"duplicate user", `{"time":"2026-03-02T08:31:07Z","user":"a","user":"b","ip":"192.0.2.1","outcome":"success"}`, "user", nil},
		{"duplicate user via escape", `{"time":"2026-03-02T08:31:07Z","user":"a","us\u0065r":"b","ip":"192.0.2.1","outcome":"success"}`, "user", nil},
		{"duplicate null then value", `{"time":"2026-03-02T08:31:07Z","ip":null,"ip":"1.2.3.4","user":"a","outcome":"success"}`, "ip", nil},
		// the line as a whole
		{"not JSON", `time=2026 user=anna`, "", nil},
		{"array", `[]`, "", nil},
		{"null", `null`, "", nil},
		{"empty", ``, "", nil},
		{"trailing garbage", line() + `x`, "", nil},
		{"two objects", line() + line(), "", nil},
		{"trailing comma", strings.TrimSuffix(line(), "}") + ",}", "", nil},
		{"truncated", line()[:40], "", nil},
		{"invalid UTF-8", line("user_agent", "\"\xff\xfe\""), "", nil},
		{"raw control in string", line("user_agent", "\"a\tb\""), "", nil},
		{"bad escape", line("user_agent", `"\x41"`), "", nil},
		{"surrounding whitespace ok", " \t" + line() + " \r\n", "ok", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseCanonical([]byte(tt.line))
			if tt.field == "ok" {
				if err != nil {
					t.Fatalf("ParseCanonical(%s): %v", tt.line, err)
				}
				if tt.check != nil {
					tt.check(t, e)
				}
				return
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseCanonical(%.200s) = %+v, %v; want a *ParseError", tt.line, e, err)
			}
			if pe.Field != tt.field {
				t.Errorf("error %q: field %q, want %q", err, pe.Field, tt.field)
			}
			if e != (Event{}) {
				t.Errorf("event not zero on error: %+v", e)
			}
		})
	}
}

func TestParseErrorMessage(t *testing.T) {
	_, err := ParseCanonical([]byte(line("ip", `"300.1.1.1"`)))
	if got, want := err.Error(), `field "ip": "300.1.1.1" is not an IP address`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	_, err = ParseCanonical([]byte(line("user", `"`+strings.Repeat("x", 10000)+"\u0001\"")))
	if len(err.Error()) > 200 {
		t.Errorf("error message not bounded: %d bytes", len(err.Error()))
	}
}

func TestParseCanonicalDoesNotAliasLine(t *testing.T) {
	l := []byte(line("session_id", `"sess"`, "user_agent", `"ua"`))
	e, err := ParseCanonical(l)
	if err != nil {
		t.Fatal(err)
	}
	for i := range l {
		l[i] = 'X'
	}
	if e.User != "anna.koch@example.org" || e.SessionID != "sess" || e.UserAgent != "ua" {
		t.Errorf("event changed with its line: %+v", e)
	}
}
