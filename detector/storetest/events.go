package storetest

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
)

// t0 is the start of every scripted scenario.
var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// place is a hand-made GeoIP answer, so the suite needs no database.
type place struct {
	country, city string
	lat, lon      float64
	radius        int
	asn           uint32
}

var (
	berlin = place{"DE", "Berlin", 52.52, 13.405, 20, 3320}
	lagos  = place{"NG", "Lagos", 6.52, 3.38, 50, 29465}
)

func (p place) geo() enrich.Geo {
	return enrich.Geo{Kind: enrich.KindPublic, Country: p.country, City: p.city, Lat: p.lat, Lon: p.lon,
		RadiusKm: p.radius, HasLoc: true, ASN: p.asn}
}

// script builds events with ids unique within one scenario.
type script struct {
	events []enrich.Event
}

// login adds a sign-in of user from ip in p at t0+at; reason "" is a success.
func (s *script) login(at time.Duration, user, ip string, p place, reason string) {
	e := enrich.Event{Event: ingest.Event{
		Time: t0.Add(at), User: user, Type: ingest.TypeLogin, Outcome: ingest.OutcomeSuccess,
		IP: netip.MustParseAddr(ip), ID: fmt.Sprintf("ev-%05d", len(s.events)), Protocol: "web",
	}, Geo: p.geo()}
	if reason != "" {
		e.Outcome, e.Reason = ingest.OutcomeFailure, reason
	}
	s.events = append(s.events, e)
}

// home gives user a week of sign-ins from Berlin before t0, so that the
// account has known networks and habits.
func (s *script) home(user string) {
	for d := 7; d >= 1; d-- {
		s.login(-time.Duration(d)*24*time.Hour, user, "84.128.0.10", berlin, "")
	}
}

// wave adds failed sign-ins of n accounts from ip, 10s apart from t0+at;
// every unknownEvery-th account does not exist.
func (s *script) wave(at time.Duration, ip string, n, unknownEvery int, prefix string) {
	for i := range n {
		reason := ingest.ReasonBadPassword
		if unknownEvery > 0 && i%unknownEvery == 0 {
			reason = ingest.ReasonUnknownUser
		}
		s.login(at+time.Duration(i)*10*time.Second, fmt.Sprintf("%s%03d@example.org", prefix, i), ip, lagos, reason)
	}
}

// failures adds n failed sign-ins of user from ip, every gap from t0+at.
func (s *script) failures(at time.Duration, user, ip string, n int, gap time.Duration, reason string) {
	for i := range n {
		s.login(at+time.Duration(i)*gap, user, ip, lagos, reason)
	}
}

// scenario is a scripted input and what it must and must not raise. The
// alerts themselves are compared with the memory store's; the rule lists
// only make sure each scenario exercises what it is named after.
type scenario struct {
	name     string
	cfg      func(*detector.Config)
	events   []enrich.Event
	want     []string // rules that must appear
	wantNone []string // rules that must not
	count    map[string]int
}

func scenarios() []scenario {
	var travel, stuffing, spray, brute, slow, mfa, grouping, userExpiry, addrExpiry script
	travel.home("anna@example.org")
	travel.login(-time.Hour, "anna@example.org", "84.128.0.10", berlin, "")
	travel.login(0, "anna@example.org", "105.112.0.5", lagos, "")

	stuffing.wave(0, "105.112.9.9", 12, 3, "u")
	stuffing.login(5*time.Minute, "u005@example.org", "105.112.9.9", lagos, "")

	spray.wave(0, "105.112.9.8", 12, 0, "s")

	brute.home("bob@example.org")
	brute.failures(0, "bob@example.org", "95.24.0.7", 12, 20*time.Second, ingest.ReasonBadPassword)
	brute.login(5*time.Minute, "bob@example.org", "95.24.0.7", lagos, "")

	// The same twelve failures, but spread wider than the 30-minute window.
	slow.home("bob@example.org")
	slow.failures(0, "bob@example.org", "95.24.0.7", 12, 6*time.Minute, ingest.ReasonBadPassword)

	mfa.home("carla@example.org")
	mfa.failures(0, "carla@example.org", "105.112.0.5", 3, time.Minute, ingest.ReasonMFADenied)
	mfa.login(3*time.Minute, "carla@example.org", "105.112.0.5", lagos, "")

	// Two waves within the incident gap are one incident; a third after it
	// is a new one.
	grouping.wave(0, "105.112.9.7", 12, 2, "g")
	grouping.wave(10*time.Minute, "105.112.9.7", 12, 2, "h")
	grouping.wave(3*time.Hour, "105.112.9.7", 12, 2, "i")

	// Berlin, then Lagos three hours later: impossible while the first
	// sign-in is remembered, nothing once it has expired.
	userExpiry.login(0, "dora@example.org", "84.128.0.10", berlin, "")
	userExpiry.login(3*time.Hour, "dora@example.org", "105.112.0.5", lagos, "")

	// A hit from an attacking address two hours after the attack.
	addrExpiry.wave(0, "105.112.9.6", 12, 3, "x")
	addrExpiry.login(2*time.Hour, "x005@example.org", "105.112.9.6", lagos, "")

	shortUser := func(c *detector.Config) { c.UserRetention = 2 * time.Hour }
	shortAddr := func(c *detector.Config) { c.AddrRetention = time.Hour }
	return []scenario{
		{name: "impossible travel", events: travel.events, want: []string{"impossible_travel"}},
		{name: "credential stuffing then a hit", events: stuffing.events, want: []string{"credential_stuffing", "compromise_after_attack"}},
		{name: "password spray", events: spray.events, want: []string{"password_spray"}},
		{name: "brute force then success", events: brute.events, want: []string{"brute_force", "compromise_after_attack"}},
		{name: "failures wider than the window", events: slow.events, wantNone: []string{"brute_force"}},
		{name: "mfa fatigue", events: mfa.events, want: []string{"mfa_fatigue"}},
		{name: "incident grouping", events: grouping.events, count: map[string]int{"credential_stuffing": 2}},
		{name: "account remembered", events: userExpiry.events, want: []string{"impossible_travel"}},
		{name: "account expired by event time", cfg: shortUser, events: userExpiry.events, wantNone: []string{"impossible_travel"}},
		{name: "address remembered", events: addrExpiry.events, want: []string{"compromise_after_attack"}},
		{name: "address expired by event time", cfg: shortAddr, events: addrExpiry.events, wantNone: []string{"compromise_after_attack"}},
	}
}
