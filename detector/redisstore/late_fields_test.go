package redisstore

import (
	"math"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
)

// The fields added on 2026-11-23 (AddrUser.HitAt/Raised in a columnar
// list of a sealed store, MailUsage's int32 fields at their bounds, a
// failure's EventID that deduplication reads) survive the codec.
func TestLateFieldsRoundTrip(t *testing.T) {
	seal := newSealer([]byte("review pseudonym key, 32 bytes.."))
	ac, err := newCodec[detector.AddrState](seal, "Addr", "Rev")
	if err != nil {
		t.Fatal(err)
	}
	uc, err := newCodec[detector.UserState](seal, "User", "Rev")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	a := detector.AddrState{Seen: at, AttackUntil: at.Add(24 * time.Hour), AttackRule: "credential_stuffing",
		Users: []detector.AddrUser{
			{User: "a@example.org", HitAt: at.Add(-time.Minute), Last: at, Successes: 1, Raised: true, EventID: "hit"},
			{User: "b@example.org", Last: at, Failures: 3, Unknown: true, EventID: "f"},
			{User: "c@example.org", HitAt: at.Add(-40 * time.Minute), Last: at.Add(-40 * time.Minute), Successes: 2, EventID: "hit2"},
		}}
	b, err := ac.appendValue(nil, &a)
	if err != nil {
		t.Fatal(err)
	}
	var a2 detector.AddrState
	if err := ac.decode(b, &a2); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Users, a2.Users) {
		t.Errorf("address users:\n%+v\nread back as\n%+v", a.Users, a2.Users)
	}
	u := detector.UserState{Seen: at,
		Mail:     detector.MailUsage{Hour: at, Items: 1e9, PeakItems: 7, PrevItems: math.MaxInt32, PrevLast: 3599, LastRead: 1},
		Failures: []detector.Failure{{Time: at, IP: netip.MustParseAddr("192.0.2.1"), Reason: "bad_password", EventID: "dup-1"}}}
	b, err = uc.appendValue(nil, &u)
	if err != nil {
		t.Fatal(err)
	}
	var u2 detector.UserState
	if err := uc.decode(b, &u2); err != nil {
		t.Fatal(err)
	}
	if u2.Mail != u.Mail || len(u2.Failures) != 1 || u2.Failures[0].EventID != "dup-1" {
		t.Errorf("user: mail %+v failures %+v, want %+v %+v", u2.Mail, u2.Failures, u.Mail, u.Failures)
	}
}
