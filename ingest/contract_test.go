package ingest

import (
	"strings"
	"testing"
	"time"
)

// The canonical event as DESIGN.md describes it ("The canonical event").

const contractBase = `"time":"2026-03-02T08:31:07.25Z","user":"anna.koch@example.org","ip":"192.0.2.1","outcome":"success"`

// DESIGN.md: "Unknown fields are ignored." `source` is atod's own field,
// not the canonical schema's, so a producer that writes its own `source`
// (an object, as ECS does, a number) must not see its events refused. A
// string source given twice is refused, as any known field is
// (TestParseCanonicalSource).
func TestUnknownSourceFieldIgnored(t *testing.T) {
	for _, extra := range []string{
		`"source":{"system":"sso","host":"idp1"}`,
		`"source":3`,
		`"source":["a","b"]`,
		`"source":true`,
		`"source":{"ip":"10.0.0.1"},"source":"okta"`,
	} {
		l := "{" + contractBase + "," + extra + "}"
		if _, err := ParseCanonical([]byte(l)); err != nil {
			t.Errorf("DESIGN.md: unknown fields are ignored (source is not in the canonical schema); "+
				"ParseCanonical refuses %s: %v", l, err)
		}
	}
}

// DESIGN.md: user is "compared case-insensitively". Two spellings that a
// case-insensitive comparison (Unicode case folding, strings.EqualFold)
// takes for one account must normalise to the same user.
func TestUserComparedCaseInsensitively(t *testing.T) {
	pairs := [][2]string{
		{"ANNA.KOCH@EXAMPLE.ORG", "anna.koch@example.org"},
		{"ΟΔΥΣΣΕΑΣ@example.gr", "οδυσσεας@example.gr"},    // final sigma
		{"\u212Aelvin@example.org", "kelvin@example.org"}, // U+212A KELVIN SIGN
	}
	for _, p := range pairs {
		if !strings.EqualFold(p[0], p[1]) {
			t.Fatalf("test bug: %q and %q are not case-insensitively equal", p[0], p[1])
		}
		a, err1 := ParseCanonical([]byte(`{"time":"2026-03-02T08:31:07Z","user":"` + p[0] + `","ip":"192.0.2.1","outcome":"success"}`))
		b, err2 := ParseCanonical([]byte(`{"time":"2026-03-02T08:31:07Z","user":"` + p[1] + `","ip":"192.0.2.1","outcome":"success"}`))
		if err1 != nil || err2 != nil {
			t.Fatalf("parse: %v %v", err1, err2)
		}
		if a.User != b.User {
			t.Errorf("DESIGN.md: user is compared case-insensitively; %q and %q (strings.EqualFold: equal) become the different accounts %q and %q",
				p[0], p[1], a.User, b.User)
		}
	}
}

// DESIGN.md: time is an "RFC 3339 timestamp with zone". RFC 3339 section
// 5.6/5.7 allows a leap second (time-second 60) at the end of a UTC month.
// A real event logged at 2016-12-31T23:59:60Z is a valid time.
func TestLeapSecondIsRFC3339(t *testing.T) {
	for _, ts := range []string{"2016-12-31T23:59:60Z", "2016-12-31T23:59:60.5Z", "2017-01-01T00:59:60+01:00"} {
		e, err := ParseCanonical([]byte(`{"time":"` + ts + `","user":"a@example.org","ip":"192.0.2.1","outcome":"success"}`))
		if err != nil {
			t.Errorf("DESIGN.md: time is an RFC 3339 timestamp (RFC 3339 allows second 60 for leap seconds); "+
				"ParseCanonical refuses %s: %v", ts, err)
			continue
		}
		if e.Time.Before(time.Date(2016, 12, 31, 23, 59, 59, 0, time.UTC)) || e.Time.After(time.Date(2017, 1, 1, 0, 0, 1, 0, time.UTC)) {
			t.Errorf("%s parsed as %v", ts, e.Time)
		}
	}
}

// Canonical events with the documented enumerations in each case, and every
// documented value of each enumeration (DESIGN.md). The existing tests pick
// single values; this walks the whole lists and checks the stored spelling.
func TestEnumerationsComplete(t *testing.T) {
	for _, r := range []string{"bad_password", "unknown_user", "mfa_denied", "mfa_timeout", "locked", "other"} {
		e, err := ParseCanonical([]byte("{" + contractBase[:strings.Index(contractBase, `"outcome"`)] + `"outcome":"failure","reason":"` + r + `"}`))
		if err != nil || e.Reason != r || !e.Failed() {
			t.Errorf("DESIGN.md reason %q: got %+v, %v", r, e, err)
		}
	}
	for _, p := range []string{"web", "imap", "pop3", "smtp", "activesync", "ews", "mapi", "graph", "other"} {
		e, err := ParseCanonical([]byte("{" + contractBase + `,"protocol":"` + p + `"}`))
		if err != nil || e.Protocol != p {
			t.Errorf("DESIGN.md protocol %q: got %q, %v", p, e.Protocol, err)
		}
	}
	for _, o := range []string{"success", "failure"} {
		e, err := ParseCanonical([]byte(`{"time":"2026-03-02T08:31:07Z","user":"a","ip":"192.0.2.1","outcome":"` + o + `"}`))
		if err != nil || e.Outcome != o {
			t.Errorf("DESIGN.md outcome %q: got %q, %v", o, e.Outcome, err)
		}
	}
	// mailbox_access and inbox_rule need neither ip nor outcome (both are
	// "for login"); inbox_rule needs rule with every documented key.
	e, err := ParseCanonical([]byte(`{"time":"2026-03-02T08:31:07Z","user":"a","type":"inbox_rule","rule":{"name":"n","forward_to":["x@evil.example"],"redirect_to":["y@evil.example"],"delete":true,"move_to":"RSS"}}`))
	if err != nil || e.Type != TypeInboxRule || e.Rule == nil || e.Rule.Name != "n" || len(e.Rule.ForwardTo) != 1 ||
		len(e.Rule.RedirectTo) != 1 || !e.Rule.Delete || e.Rule.MoveTo != "RSS" || e.IP.IsValid() || e.Outcome != "" {
		t.Errorf("DESIGN.md inbox_rule with every rule key: got %+v (rule %+v), %v", e, e.Rule, err)
	}
}
