package syslog

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/atod-project/atod/ingest"
)

// echo is a Program that makes one event of every message of app "echo",
// its text being the user.
type echo struct{}

func (echo) Match(m *Message) bool { return m.App == "echo" }
func (echo) Decode(m *Message, emit func(ingest.Event)) error {
	var c Canonicalizer
	e, err := c.Canonical(ingest.Event{Time: m.Time, User: string(m.Text), IP: netip.MustParseAddr("192.0.2.1"),
		Type: ingest.TypeLogin, Outcome: ingest.OutcomeSuccess})
	if err != nil {
		return err
	}
	emit(e)
	return nil
}
func (echo) Flush(func(ingest.Event)) {}

func newEcho() Program { return echo{} }

func TestFormatRoutesAndSkips(t *testing.T) {
	opt := Options{Location: time.UTC, Year: 2026}
	specific := NewFormat("echo", "", opt, newEcho)
	catchAll := NewCatchAll("syslog", "", opt, newEcho)
	for _, tc := range []struct {
		line                 string
		specific, catchesAll bool
	}{
		{"Mar  2 08:00:00 h echo: Anna", true, true},
		{"Mar  2 08:00:00 h cron[1]: job", false, true},
		{`{"time":"2026-03-02T08:00:00Z","user":"a","ip":"192.0.2.1","outcome":"success"}`, false, false},
		{"not syslog", false, false},
	} {
		if got := specific.Sniff([]byte(tc.line)); got != tc.specific {
			t.Errorf("NewFormat Sniff(%q) = %v", tc.line, got)
		}
		if got := catchAll.Sniff([]byte(tc.line)); got != tc.catchesAll {
			t.Errorf("NewCatchAll Sniff(%q) = %v", tc.line, got)
		}
	}
	d := catchAll.New()
	var users []string
	emit := func(e ingest.Event) { users = append(users, e.User) }
	if err := d.Decode([]byte("Mar  2 08:00:00 h cron[1]: job"), emit); !errors.Is(err, ingest.ErrSkip) {
		t.Errorf("another program's line: got %v, want ErrSkip", err)
	}
	if err := d.Decode([]byte("nonsense"), emit); !errors.Is(err, ErrFraming) {
		t.Errorf("no framing: got %v, want ErrFraming", err)
	}
	if err := d.Decode([]byte("Mar  2 08:00:00 h echo: Anna"), emit); err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 || users[0] != "anna" {
		t.Errorf("users %v, want the canonical anna", users)
	}
}

func TestEventsOfOneSecondKeepTheirOrder(t *testing.T) {
	d := NewFormat("echo", "", Options{Location: time.UTC, Year: 2026}, newEcho).New()
	var times []time.Time
	emit := func(e ingest.Event) { times = append(times, e.Time) }
	for _, l := range []string{
		"Mar  2 08:00:00 h echo: a", "Mar  2 08:00:00 h echo: b", "Mar  2 08:00:00 h echo: c",
		"Mar  2 08:00:01 h echo: d", "2026-03-02T08:00:01.5Z h echo: e", "Mar  2 08:00:01 h echo: f",
	} {
		if err := d.Decode([]byte(l), emit); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	want := []time.Duration{0, 1, 2, time.Second, 1500 * time.Millisecond, time.Second + 1}
	for i, w := range want {
		if !times[i].Equal(base.Add(w)) {
			t.Errorf("event %d at %s, want %s", i, times[i].Format(time.RFC3339Nano), base.Add(w).Format(time.RFC3339Nano))
		}
	}
}
