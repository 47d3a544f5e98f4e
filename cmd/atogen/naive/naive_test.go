package naive

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/enrich/geotest"
	"github.com/atod-project/atod/ingest"
)

var t0 = time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)

func login(at time.Duration, user string, ip netip.Addr, outcome string) ingest.Event {
	e := ingest.Event{Time: t0.Add(at), User: user, IP: ip, Type: ingest.TypeLogin, Outcome: outcome}
	if outcome == ingest.OutcomeFailure {
		e.Reason = ingest.ReasonBadPassword
	}
	return e
}

func fired(alerts []detector.Alert) string {
	var names []string
	for _, a := range alerts {
		names = append(names, a.Rule+":"+a.User+":"+a.IP)
	}
	return strings.Join(names, " ")
}

func TestRules(t *testing.T) {
	berlin, newYork := geotest.ByName("berlin").Addr(1), geotest.ByName("new-york").Addr(1)
	munich, hosting := geotest.ByName("munich").Addr(1), geotest.ByName("amsterdam-hosting").Addr(1)
	manyFailures := func(accounts int, within time.Duration) []ingest.Event {
		var evs []ingest.Event
		for i := range accounts {
			evs = append(evs, login(within*time.Duration(i)/time.Duration(accounts), fmt.Sprintf("u%d@x", i), hosting, ingest.OutcomeFailure))
		}
		return evs
	}
	repeat := func(n int, every time.Duration) []ingest.Event {
		var evs []ingest.Event
		for i := range n {
			evs = append(evs, login(every*time.Duration(i), "a@x", hosting, ingest.OutcomeFailure))
		}
		return evs
	}
	withSession := func(e ingest.Event, s string) ingest.Event { e.SessionID = s; return e }
	tests := []struct {
		name   string
		events []ingest.Event
		want   string
	}{
		{"berlin to new york in an hour", []ingest.Event{
			login(0, "a@x", berlin, ingest.OutcomeSuccess), login(time.Hour, "A@x", newYork, ingest.OutcomeSuccess),
		}, "impossible_travel:a@x:" + newYork.String()},
		{"berlin to new york in a day", []ingest.Event{
			login(0, "a@x", berlin, ingest.OutcomeSuccess), login(24*time.Hour, "a@x", newYork, ingest.OutcomeSuccess),
		}, ""},
		{"berlin to munich at once", []ingest.Event{
			login(0, "a@x", berlin, ingest.OutcomeSuccess), login(0, "a@x", munich, ingest.OutcomeSuccess),
		}, "impossible_travel:a@x:" + munich.String()},
		{"failures do not travel", []ingest.Event{
			login(0, "a@x", berlin, ingest.OutcomeSuccess), login(time.Minute, "a@x", newYork, ingest.OutcomeFailure),
		}, ""},
		{"input out of order is sorted", []ingest.Event{
			login(time.Hour, "a@x", newYork, ingest.OutcomeSuccess), login(0, "a@x", berlin, ingest.OutcomeSuccess),
		}, "impossible_travel:a@x:" + newYork.String()},
		{"31 accounts in 5 minutes", manyFailures(31, 4*time.Minute), "credential_stuffing::" + hosting.String()},
		{"30 accounts in 5 minutes", manyFailures(30, 4*time.Minute), ""},
		{"31 accounts in 10 minutes", manyFailures(31, 10*time.Minute), ""},
		{"20 failures in 30 minutes", repeat(20, time.Minute), "brute_force:a@x:" + hosting.String()},
		{"19 failures", repeat(19, time.Minute), ""},
		{"20 failures in 60 minutes", repeat(20, 3*time.Minute), ""},
		{"80 failures alert twice", repeat(80, 50*time.Second), "brute_force:a@x:" + hosting.String() + " brute_force:a@x:" + hosting.String()},
		{"session from a second address", []ingest.Event{
			withSession(login(0, "a@x", berlin, ingest.OutcomeSuccess), "s1"),
			withSession(ingest.Event{Time: t0.Add(3 * time.Hour), User: "a@x", IP: munich, Type: ingest.TypeMailboxAccess}, "s1"),
			withSession(ingest.Event{Time: t0.Add(4 * time.Hour), User: "a@x", IP: munich, Type: ingest.TypeMailboxAccess}, "s1"),
		}, "session_hijack:a@x:" + munich.String()},
		{"session from one address", []ingest.Event{
			withSession(login(0, "a@x", berlin, ingest.OutcomeSuccess), "s1"),
			withSession(ingest.Event{Time: t0.Add(time.Hour), User: "a@x", IP: berlin, Type: ingest.TypeMailboxAccess}, "s1"),
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Run(tt.events)
			if fired(got) != tt.want {
				t.Errorf("got %q, want %q", fired(got), tt.want)
			}
			for _, a := range got {
				if a.Action != detector.ActionAlert || a.ID == "" || len(a.Reasons) == 0 || a.Severity == "" {
					t.Errorf("incomplete alert %+v", a)
				}
			}
		})
	}
}

func TestLocate(t *testing.T) {
	loc := NewLocator()
	for _, p := range geotest.World {
		for n := range p.Networks {
			got, ok := loc.Locate(p.AddrIn(n, 12345))
			if !ok || got.Name != p.Name {
				t.Errorf("%s network %d located at %q, %v", p.Name, n, got.Name, ok)
			}
		}
	}
	if _, ok := loc.Locate(netip.MustParseAddr("10.0.0.1")); ok {
		t.Error("a private address was located")
	}
	if km := GreatCircleKm(52.52, 13.405, 40.7128, -74.006); km < 6300 || km > 6450 {
		t.Errorf("Berlin to New York is %.0f km", km)
	}
}

func TestReadWriteRoundTrip(t *testing.T) {
	in := `{"time":"2026-03-02T08:00:00Z","user":"A@x","ip":"84.128.0.1","type":"login","outcome":"success","id":"e1"}` + "\n\n"
	evs, err := DecodeEvents(strings.NewReader(in))
	if err != nil || len(evs) != 1 || evs[0].User != "a@x" {
		t.Fatalf("DecodeEvents = %+v, %v", evs, err)
	}
	if _, err := DecodeEvents(strings.NewReader(`{"user":"a@x"}`)); err == nil {
		t.Error("an event without time was accepted")
	}
	var buf bytes.Buffer
	sydney := login(0, "a@x", geotest.ByName("sydney").Addr(1), ingest.OutcomeSuccess)
	sydney.Time = evs[0].Time.Add(time.Hour)
	if err := WriteAlerts(&buf, Run(append(evs, sydney))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"rule":"impossible_travel"`) || strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("alerts: %s", buf.String())
	}
}
