package kafka

import (
	"bytes"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/atod-project/atod/detector"
)

// Record values as the publisher writes them, and what else a topic may
// hold.
var records = []string{
	`{"id":"a1","time":"2026-03-02T08:11:00.25Z","rule":"brute_force","user":"anna@example.org","ip":"95.24.0.7","score":70,"severity":"high","action":"alert","reasons":["12 failures in 5m"],"evidence":["e"]}`,
	`{"id":"b2","time":"2026-03-02T09:11:00+01:00","rule":"password_spray","user":"","users":["a@x","b@x"],"ip":"2001:db8::1","score":95,"severity":"critical","action":"revoke","reasons":[],"evidence":null,"geo":{"country":"RU","asn":12389},"tenant":"t1","detected_at":"2026-03-02T08:11:01Z"}`,
	`{"id":"","rule":"x"}`,
	`{"ID":"c3","Time":"0000-01-01T00:00:00Z","score":1e2}`,
	`{"id":"d4","time":"2026-13-02T08:11:00Z"}`,
	`{"id":"e5","user":"\ud800\u00e9"}`,
	`not an alert`,
	``,
}

// FuzzDecodeAlert checks the reading back of the alerts topic, which
// decides after a restart which alerts count as delivered: any record is
// read or skipped, never a panic; a record read is an alert with an id;
// and it can be published again to the same bytes it then reads back as,
// so that an alert read back and one still pending compare as equal.
func FuzzDecodeAlert(f *testing.F) {
	for _, r := range records {
		f.Add([]byte(r))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, ok := decodeAlert(raw)
		if !ok {
			if a.ID != "" {
				t.Fatalf("%q skipped but read as %+v", raw, a)
			}
			return
		}
		if a.ID == "" {
			t.Fatalf("%q read as an alert without id", raw)
		}
		m, err := message(&a)
		if err != nil {
			t.Fatalf("%q read back but cannot be published again: %v", raw, err)
		}
		if k := string(m.Key); k != a.User && k != a.IP {
			t.Fatalf("key %q of %+v", k, a)
		}
		again, ok := decodeAlert(m.Value)
		if !ok || again.ID != a.ID {
			t.Fatalf("%q published as %q reads back as %+v", raw, m.Value, again)
		}
		if m2, err := message(&again); err != nil || !bytes.Equal(m2.Value, m.Value) {
			t.Fatalf("%q: %q does not read back to itself: %q (%v)", raw, m.Value, m2.Value, err)
		}
	})
}

// FuzzPublishedAlertReadsBack checks the topic from the other side: an
// alert the publisher writes reads back with its id and account, so that
// a restart does not publish it a second time.
func FuzzPublishedAlertReadsBack(f *testing.F) {
	f.Add("a1", "anna@example.org", "95.24.0.7", "brute_force", 70, int64(1772439060250000000))
	f.Add("b2", "", "2001:db8::1", "password_spray", 95, int64(0))
	f.Add("", "x", "", "", -1, int64(-1))
	f.Add("\xff", "\"\\\u2028", "<>&", "a\x00b", 0, int64(1))
	f.Fuzz(func(t *testing.T, id, user, ip, rule string, score int, nanos int64) {
		at := time.Unix(0, nanos).UTC()
		a := detector.Alert{ID: id, Time: at, Rule: rule, User: user, IP: ip, Score: score,
			Severity: detector.SeverityOf(score), Action: "alert", Reasons: []string{"r"}, Evidence: []string{"e"}}
		m, err := message(&a)
		if err != nil {
			t.Fatalf("%+v: %v", a, err)
		}
		got, ok := decodeAlert(m.Value)
		if ok != (id != "") {
			t.Fatalf("%q read back: %v", m.Value, ok)
		}
		if !ok || !utf8.ValidString(id) || !utf8.ValidString(user) || !utf8.ValidString(ip) || !utf8.ValidString(rule) {
			return // invalid UTF-8 is written as U+FFFD, as JSON needs
		}
		if got.ID != id || got.User != user || got.IP != ip || got.Rule != rule || got.Score != score || !got.Time.Equal(at) {
			t.Fatalf("%+v reads back as %+v", a, got)
		}
	})
}
