package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseAddr(t *testing.T) {
	for in, want := range map[string]string{
		"84.128.0.10":              "84.128.0.10",
		" 84.128.0.10:52344 ":      "84.128.0.10",
		"[2003:e0::1:5]:41234":     "2003:e0::1:5",
		"[2003:e0::1:5]":           "2003:e0::1:5",
		"2003:e0::1:5":             "2003:e0::1:5",
		"::ffff:84.128.0.10":       "84.128.0.10",
		"[::ffff:84.128.0.10]:443": "84.128.0.10",
		"fe80::1%eth0":             "fe80::1",
		"84.128.0.10:x":            "",
		"[2003:e0::1:5]:":          "",
		"[2003:e0::1:5":            "",
		"84.128.0":                 "",
		"":                         "",
		"localhost:80":             "",
	} {
		got, err := ParseAddr(in)
		if want == "" {
			if err == nil {
				t.Errorf("ParseAddr(%q) = %v, want an error", in, got)
			}
			continue
		}
		if err != nil || got.String() != want {
			t.Errorf("ParseAddr(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
}

func TestParseUTCTime(t *testing.T) {
	for in, want := range map[string]string{
		"2015-06-29T20:03:19":             "2015-06-29T20:03:19Z",
		"2026-03-02T08:31:07.4826285Z":    "2026-03-02T08:31:07.4826285Z",
		"2026-03-02T10:31:07+02:00":       "2026-03-02T08:31:07Z",
		"2026-03-02T08:31:07.1234567":     "2026-03-02T08:31:07.1234567Z",
		"3/2/2026, 8:31:07.250 AM":        "2026-03-02T08:31:07.25Z",
		"3/2/2026 8:31:07 PM":             "2026-03-02T20:31:07Z",
		"12/31/2025 23:59:59":             "2025-12-31T23:59:59Z",
		"yesterday":                       "",
		"2026-13-02T08:31:07":             "",
		"1/2/1900 1:00:00 AM":             "",
		"2026-03-02T08:31:07 Europe/Rome": "",
	} {
		got, err := ParseUTCTime(in)
		if want == "" {
			if err == nil {
				t.Errorf("ParseUTCTime(%q) = %v, want an error", in, got)
			}
			continue
		}
		if err != nil || got.Format(time.RFC3339Nano) != want || got.Location() != time.UTC {
			t.Errorf("ParseUTCTime(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	if _, err := ParseTime("2015-06-29T20:03:19"); err == nil {
		t.Error("ParseTime accepts a time without a zone")
	}
}

func TestFieldsEvent(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 31, 7, 0, time.FixedZone("CET", 3600))
	f := Fields{Time: at, User: "  Anna.Koch@Example.ORG ", IP: "[::ffff:84.128.0.10]:443", Outcome: "Success",
		Reason: "weird", Protocol: "IMAP", ID: strings.Repeat("i", 300), Source: "entra", UserAgent: strings.Repeat("ü", 600)}
	e, err := f.Event()
	if err != nil {
		t.Fatal(err)
	}
	if e.User != "anna.koch@example.org" || e.IP.String() != "84.128.0.10" || e.Type != TypeLogin || e.Outcome != OutcomeSuccess ||
		e.Reason != ReasonOther || e.Protocol != "imap" || len(e.ID) != MaxIDLen || e.Source != "entra" ||
		e.Time != at.UTC() || e.Time.Location() != time.UTC || len(e.UserAgent) > MaxUserAgentLen {
		t.Errorf("%+v", e)
	}
	rule := &InboxRule{Name: "r", ForwardTo: []string{" a@x.org ", "", "b@y.org"}}
	e, err = (&Fields{Time: at, User: "u", Type: TypeInboxRule, Rule: rule}).Event()
	if err != nil || fmt.Sprint(e.Rule.ForwardTo) != "[a@x.org b@y.org]" || e.IP.IsValid() {
		t.Errorf("%+v %v", e, err)
	}
	for _, bad := range []Fields{
		{User: "u", IP: "1.2.3.4", Outcome: "success"},
		{Time: at, IP: "1.2.3.4", Outcome: "success"},
		{Time: at, User: "u", Outcome: "success"},
		{Time: at, User: "u", IP: "1.2.3.4"},
		{Time: at, User: "u", IP: "1.2.3.4", Outcome: "maybe"},
		{Time: at, User: "u", Type: TypeInboxRule},
		{Time: at, User: "u", Type: TypeMailboxAccess, Items: -1},
		{Time: time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC), User: "u", IP: "1.2.3.4", Outcome: "success"},
	} {
		if _, err := bad.Event(); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

func TestParseCanonicalSource(t *testing.T) {
	e, err := ParseCanonical([]byte(`{"time":"2026-03-02T08:31:07Z","user":"u","ip":"1.2.3.4","outcome":"success","source":"okta"}`))
	if err != nil || e.Source != "okta" {
		t.Errorf("%+v %v", e, err)
	}
	if _, err := ParseCanonical([]byte(`{"time":"2026-03-02T08:31:07Z","user":"u","ip":"1.2.3.4","outcome":"success","source":"a","source":"b"}`)); err == nil {
		t.Error("source given twice")
	}
}

func TestHasKey(t *testing.T) {
	rec := []byte(`{"a":{"userPrincipalName" :"x"},"ua":"\"Workload\":1","b":"\"eventType\"", "k\"Operation":1}`)
	for key, want := range map[string]bool{"userPrincipalName": true, "a": true, "Workload": false, "eventType": false, "Operation": false, "x": false, "": false} {
		if got := HasKey(rec, key); got != want {
			t.Errorf("HasKey(%q) = %t", key, got)
		}
	}
}

func TestEnvelope(t *testing.T) {
	for _, tc := range []struct {
		in    string
		parts string
		ok    bool
		err   bool
	}{
		{`[{"a":1}, {"b":[2]} ,3]`, `[{"a":1} {"b":[2]} 3]`, true, false},
		{` {"x":"y","records":[{"a":1},{"b":2}],"value":[9]} `, `[{"a":1} {"b":2}]`, true, false},
		{`{"detail":{"a":1}}`, `[{"a":1}]`, true, false},
		{`{"records":"none","z":1}`, `[]`, false, false},
		{`{"a":{"records":[1]}}`, `[]`, false, false},
		{`{"a":1}`, `[]`, false, false},
		{`"str"`, `[]`, false, false},
		{`[1,2`, `[]`, false, true},
		{`{"records":[1,2]} x`, `[]`, false, true},
		{`[]`, `[]`, true, false},
	} {
		parts, ok, err := Envelope([]byte(tc.in), "records", "value", "detail")
		var ps []string
		for _, p := range parts {
			ps = append(ps, string(p))
		}
		if ok != tc.ok || (err != nil) != tc.err || (ok && fmt.Sprint(ps) != tc.parts) {
			t.Errorf("Envelope(%s) = %q, %t, %v", tc.in, ps, ok, err)
		}
	}
	many := "[" + strings.Repeat("0,", MaxEnvelopeRecords) + "0]"
	if _, _, err := Envelope([]byte(many)); err == nil {
		t.Error("no error for an envelope over MaxEnvelopeRecords")
	}
}

func TestCSVHeaderObject(t *testing.T) {
	h, err := ParseCSVHeader([]byte("\xef\xbb\xbfTimeGenerated [UTC], UserPrincipalName ,Status,Empty"))
	if err != nil {
		t.Fatal(err)
	}
	if !h.Has("timegenerated", "userprincipalname") || h.Has("TimeGenerated [UTC]") || h.Index("Status") != 2 {
		t.Errorf("header %+v", h)
	}
	obj, err := h.Object([]byte(`"3/2/2026, 8:31:07 AM",a@b.org,"{""errorCode"":0}",`))
	if err != nil || string(obj) != `{"TimeGenerated":"3/2/2026, 8:31:07 AM","UserPrincipalName":"a@b.org","Status":"{\"errorCode\":0}"}` {
		t.Errorf("%s %v", obj, err)
	}
	if _, err := h.Object([]byte("1,2,3,4,5")); err == nil {
		t.Error("no error for a row longer than the header")
	}
	if _, err := SplitCSV([]byte("a\nb")); err == nil {
		t.Error("no error for two rows")
	}
}

func TestTextAndNested(t *testing.T) {
	var v struct {
		A, B, C, D Text
		N          Nested[struct{ X int }]
		S          Nested[[]string]
		E          Nested[[]string]
	}
	err := json.Unmarshal([]byte(`{"A":"x","B":50126,"C":true,"D":null,"N":{"X":1},"S":"[\"p\",\"q\"]","E":""}`), &v)
	if err != nil || v.A != "x" || v.B != "50126" || v.C != "true" || v.D != "" || v.N.V.X != 1 || !v.N.Set ||
		fmt.Sprint(v.S.V) != "[p q]" || v.E.Set {
		t.Errorf("%+v %v", v, err)
	}
	if err := json.Unmarshal([]byte(`{"A":{}}`), &v); err == nil {
		t.Error("Text accepts an object")
	}
}

func TestEachRecord(t *testing.T) {
	decode := func(rec []byte, emit func(Event)) error {
		switch string(rec) {
		case "skip":
			return fmt.Errorf("%w: no", ErrSkip)
		case "bad":
			return errors.New("bad")
		}
		emit(Event{ID: string(rec)})
		return nil
	}
	var ids []string
	emit := func(e Event) { ids = append(ids, e.ID) }
	err := EachRecord([][]byte{[]byte("a"), []byte("skip"), []byte("bad"), []byte("b")}, decode, emit)
	var parts PartErrors
	if !errors.As(err, &parts) || len(parts) != 1 || string(parts[0].Raw) != "bad" || fmt.Sprint(ids) != "[a b]" {
		t.Errorf("%v %v", err, ids)
	}
	if err := EachRecord([][]byte{[]byte("skip")}, decode, emit); !errors.Is(err, ErrSkip) {
		t.Errorf("all skipped: %v", err)
	}
	if err := EachRecord(nil, decode, emit); !errors.Is(err, ErrSkip) {
		t.Errorf("empty: %v", err)
	}
}

func FuzzEnvelope(f *testing.F) {
	f.Add([]byte(`{"records":[{"a":1},2]}`))
	f.Add([]byte(`[[],{},"x"]`))
	f.Add([]byte(`{"detail":{"a":[1,{"records":[]}]}}`))
	f.Fuzz(func(t *testing.T, rec []byte) {
		parts, ok, err := Envelope(rec, "records", "detail")
		if err != nil || !ok {
			return
		}
		if !json.Valid(rec) {
			t.Fatalf("accepted invalid JSON %q", rec)
		}
		for _, p := range parts {
			if !json.Valid(p) {
				t.Fatalf("part %q of %q is not JSON", p, rec)
			}
		}
	})
}
