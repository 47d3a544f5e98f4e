package syslog

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/atod-project/atod/ingest"
)

// FuzzCanonicalizer checks that the hand-written JSON reads back exactly
// as encoding/json's would.
func FuzzCanonicalizer(f *testing.F) {
	f.Add("Anna.Koch@Example.org", "6WniJNlgrNV/AAAB", "bad_password", "imap", int64(1772440267251234000))
	f.Add(" \"x, y\"<z>\\ ", "\x00\x1f\x7f\xff", "weird", "managesieve", int64(0))
	f.Fuzz(func(t *testing.T, user, id, reason, proto string, ns int64) {
		e := ingest.Event{Time: time.Unix(0, ns).UTC(), User: user, IP: netip.MustParseAddr("2001:db8::1"),
			Type: ingest.TypeLogin, Outcome: ingest.OutcomeFailure, Reason: reason, Protocol: proto, ID: id, SessionID: id, Source: "dovecot"}
		var c Canonicalizer
		got, gotErr := c.Canonical(e)
		b, err := json.Marshal(&e)
		if err != nil {
			t.Skip()
		}
		want, wantErr := ingest.ParseCanonical(b)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("errors differ: %v, %v", gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %+v\nwant %+v", got, want)
		}
	})
}
