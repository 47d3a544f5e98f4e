package webhook

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzVerify: Verify reads the headers of a request a receiver got
// from the network. Whatever they hold it gives nil, ErrStale or
// ErrBadSignature, never a panic; it accepts a request as post signs it;
// and, as SignV2's doc promises, it accepts no other (event, delivery,
// body) than the one signed: not a new delivery id, not a relabelled
// event, even one that moves the dots between the signed fields (the
// event and delivery id a sender signs never hold a dot).
func FuzzVerify(f *testing.F) {
	f.Add("0123456789abcdef0123456789abcdef", []byte(`{"id":"x","user":"a@example.org","ip":"192.0.2.1"}`), false, uint16(2), uint16(5), "", "", "", "")
	f.Add("id", []byte("a.b"), false, uint16(0), uint16(2), "", "", "", "") // delivery "id.a", body "b"
	f.Add("id", []byte("a.b.c"), true, uint16(1), uint16(3), "", "", "", "")
	f.Add("id", []byte("{}"), false, uint16(0), uint16(0), "1", "v2=", "alert", "id")
	f.Add("", []byte(""), false, uint16(0), uint16(0), "99999999999999999999", "v2=x", "", "")
	secret := []byte("a webhook secret of enough length")
	now := time.Unix(1_772_440_267, 0)
	const tolerance = 5 * time.Minute
	f.Fuzz(func(t *testing.T, delivery string, body []byte, revoke bool, cut1, cut2 uint16, ts, sig, ev, del string) {
		// Any headers at all.
		h := http.Header{}
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignatureV2, sig)
		h.Set(HeaderEvent, ev)
		h.Set(HeaderDelivery, del)
		if err := Verify(secret, h, body, now, tolerance); err != nil && !errors.Is(err, ErrStale) && !errors.Is(err, ErrBadSignature) {
			t.Fatalf("Verify: %v is neither ErrStale nor ErrBadSignature", err)
		}

		// A request as post signs it.
		if delivery == "" || strings.ContainsAny(delivery, ".\r\n") || strings.TrimSpace(delivery) != delivery {
			return
		}
		event := "alert"
		if revoke {
			event = "revoke"
		}
		stamp := strconv.FormatInt(now.Unix(), 10)
		h = http.Header{}
		h.Set(HeaderTimestamp, stamp)
		h.Set(HeaderEvent, event)
		h.Set(HeaderDelivery, delivery)
		h.Set(HeaderSignatureV2, "v2="+SignV2(secret, stamp, event, delivery, body))
		if err := Verify(secret, h, body, now, tolerance); err != nil {
			t.Fatalf("genuine request refused: %v", err)
		}

		// The same signed bytes read with the dots in other places.
		signed := event + "." + delivery + "." + string(body)
		var dots []int
		for i := 0; i < len(signed); i++ {
			if signed[i] == '.' {
				dots = append(dots, i)
			}
		}
		i, j := dots[int(cut1)%len(dots)], dots[int(cut2)%len(dots)]
		if i >= j {
			return
		}
		event2, delivery2, body2 := signed[:i], signed[i+1:j], signed[j+1:]
		if event2 == event && delivery2 == delivery && body2 == string(body) {
			return
		}
		forged := h.Clone()
		forged.Set(HeaderEvent, event2)
		forged.Set(HeaderDelivery, delivery2)
		if Verify(secret, forged, []byte(body2), now, tolerance) == nil {
			t.Fatalf("a request signed for event %q, delivery %q, body %q verifies as event %q, delivery %q, body %q",
				event, delivery, body, event2, delivery2, body2)
		}
	})
}
