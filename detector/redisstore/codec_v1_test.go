package redisstore

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
)

// v1States are states as the first value format (formatV1) stored them;
// v1Golden holds their encodings, made by the format-1 encoder.
func v1States() (detector.UserState, detector.AddrState, kitchenSink) {
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return t.UTC()
	}
	seen := at("2026-03-04T19:32:19.863Z")
	u := detector.UserState{
		Seen: seen,
		LastLogin: detector.Login{Time: seen, IP: netip.MustParseAddr("62.216.4.154"), Lat: 48.1351, Lon: 11.582,
			RadiusKm: 20, Country: "DE", City: "Munich", ASN: 8881, EventID: "0b5c6a4e-8f0e-4d5b-9a1c-3f2e1d0c9b8a"},
		Failures: []detector.Failure{
			{Time: at("2026-03-04T11:11:17.431Z"), IP: netip.MustParseAddr("123.114.42.96"), Reason: "bad_password", EventID: "ev-0006170"},
			{Time: at("2026-03-04T11:11:18Z"), IP: netip.MustParseAddr("::ffff:123.114.42.96"), Reason: "bad_password", Known: true, EventID: "EV-1"},
		},
		Known:     []detector.KnownNet{{Prefix: netip.MustParsePrefix("62.216.4.0/24"), Last: seen}, {Prefix: netip.MustParsePrefix("2003:e0::/48"), Last: at("2026-02-01T00:00:00.000000001Z")}},
		Incidents: []detector.Incident{{Rule: "impossible_travel", Start: seen, Last: seen, Action: "revoke", Score: 90}},
		Logins:    10,
		FirstSeen: at("2026-03-02T05:52:21.541Z"),
		Countries: []detector.Habit{{Key: "DE", Last: seen}},
		ASNs:      []detector.Habit{{Num: 8881, Last: seen}},
		Clients:   []detector.Habit{{Key: "d", Num: 18001613617944192041, Last: seen}, {Key: "a", Num: 11258768384119454226, Last: seen}},
		Sessions: []detector.Session{
			{Hash: 2870851447750165765, Last: at("2026-03-02T12:20:52.155Z"), Lat: 48.1351, Lon: 11.582, RadiusKm: 20, HasLoc: true,
				Country: "DE", ASN: 8881, IP: netip.MustParseAddr("62.216.4.154"), EventID: "ev-0001468"},
			{Hash: 17849994562577553397, Last: at("2026-03-02T18:41:57.755Z"), Lat: -33.8688, Lon: math.Inf(1),
				IP: netip.MustParseAddr("2001:db8::1"), EventID: "ev-0002123"},
		},
		Risk:   detector.RiskySignIn{Time: seen, Score: 70, IP: netip.MustParseAddr("10.0.0.1"), Session: 7, EventID: "r"},
		Mail:   detector.MailUsage{Hour: at("2026-03-04T19:00:00Z"), Items: 16, PeakItems: 24},
		Sprays: []detector.SprayAttempt{{Time: at("1969-12-31T23:59:59.5Z"), User: "x@example.org", IP: netip.MustParseAddr("1.2.3.4"), EventID: "e"}},
	}
	a := detector.AddrState{
		Seen: seen,
		Users: []detector.AddrUser{{User: "nathan.frank@example-hospital.org", Last: seen, Successes: 1, EventID: "ev-0007302"},
			{User: "eva.braun@example-hospital.org", Last: seen, Failures: 3, Unknown: true}},
		AttackUntil: at("2026-03-05T19:32:19Z"),
		AttackRule:  "stuffing",
	}
	ip := netip.MustParseAddr("fe80::1%eth0")
	k := kitchenSink{B: true, I8: -8, I: -1 << 40, U16: 65535, U: math.MaxUint64, F32: 0.1, F: -0.0001, S: "\x00\x01ü",
		Raw: []byte{0, 1, 2}, T: at("0001-01-01T00:00:00.000000001Z"), D: time.Hour, IP: ip,
		Net: netip.MustParsePrefix("1.2.3.0/24"), Arr: [3]int16{1, 0, -1},
		Ptr:    &detector.Login{City: "Köln"},
		Map:    map[string]detector.KnownNet{"a": {Last: seen}, "": {}},
		IntMap: map[uint32][]string{7: {"x", ""}, 0: nil},
		Nested: []detector.Incident{{}, {Rule: "r", Score: -1}}, Nested2: [][]netip.Addr{{ip, {}}, nil}}
	return u, a, k
}

// v1Golden: the bodies of v1States as formatV1 wrote them (after the
// revision and the format byte).
var v1Golden = struct{ user, addr, sink string }{
	user: "8125dce8e3caaece01fe3d56a125dce8e3caaece019e42043ed8049a9d489cc275c96fb0a31cc853288a690244458666064d756e6963689c26b1458a082430623563366134652d386630652d346435622d396131632d336632653164306339623861da12632ca125dcadb891aece019e42047b722a60b26d0c6261645f70617373776f72648a080a65762d3030303631373035a125c0bfb891aece019e421000000000000000000000ffff7b722a60b26d0c6261645f70617373776f72648c39018a080445562d31e2592f119a54053ed8040018c911dce8e3caaece011c9a5411200300e000000000000000000000000030c91181bce9af1a01ae053433d22d11696d706f737369626c655f74726176656cc142dce8e3caaece01c911dce8e3caaece01fa03067265766f6b658815b401d42014cd4c9481ada3abce01fa390f0ede49024445c911dce8e3caaece01ba5d0e0dd861b145c911dce8e3caaece019e4e3419de490164d861a9c897cbd786a5e9f901c911dce8e3caaece0119de490161d86192f4dafe99c6cb9f9c01c911dce8e3caaece01aa268901419077858ac2d0e685d4eb27c911ec89e8cfabce019d489cc275c96fb0a31cc853288c2f018a690244459c26b1459e42043ed8049a8a080a65762d30303031343638469077f5afdbc8b3effadbf701c911ecbfb6fbabce019d48fed752c96f0180808080808080f87f9e421020010db80000000000000000000000018a080a65762d30303032313233ee441ba125dce8e3caaece0188158c019e42040a000001cc05078a0801729a0a0fa106809c8ac7aece01c82520b84630861f201fa125ce0f86320d78406578616d706c652e6f72679e4204010203048a080165",
	addr: "8125dce8e3caaece01d6138101468632216e617468616e2e6672616e6b406578616d706c652d686f73706974616c2e6f7267e902dce8e3caaece01c911dce8e3caaece01cc0a028a080a65762d303030373330323986321e6576612e627261756e406578616d706c652d686f73706974616c2e6f7267e902fccbf995aece01c911dce8e3caaece01c42706ac5a01a504e0adc9efafce01ba63087374756666696e67",
	sink: "a07601ac5d0ff821ffffffffff3ff03dffff038044ffffffffffffffffff01894f01808080809ab3e6dc3fb93802da36040001c3bcb664030001029d01ffb79ff29d07019c758080c58bc6d1019e4214fe80000000000000000000000000000165746830c278050102030018b62c03020001fe1909088666054bc3b66c6ebe1e0e0000016109c911dce8e3caaece01f6260700000703017800ba36090007d22d0172881501927d181614fe800000000000000000000000000001657468300000",
}

func TestDecodeFormatV1(t *testing.T) {
	u, a, k := v1States()
	decodeV1Golden(t, "account", v1Golden.user, u, "User", "Rev")
	decodeV1Golden(t, "address", v1Golden.addr, a, "Addr", "Rev")
	decodeV1Golden(t, "kitchen sink", v1Golden.sink, k)
}

func decodeV1Golden[T any](t *testing.T, name, golden string, want T, skip ...string) {
	t.Helper()
	c, err := newCodec[T](nil, skip...)
	if err != nil {
		t.Fatal(err)
	}
	body, err := hex.DecodeString(golden)
	if err != nil {
		t.Fatal(err)
	}
	// As Load reads it: revision, format byte, body.
	raw := append(binary.AppendUvarint(nil, 7), formatV1)
	raw = append(raw, body...)
	var got T
	if rev, err := decodeInto(c, raw, nil, &got); err != nil || rev != 7 || !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: revision %d, %v\ngot  %+v\nwant %+v", name, rev, err, got, want)
	}
	// Saved again, it is in formatV2 and comes back the same.
	b, err := c.appendValue(appendHeader(nil, 8), &got)
	if err != nil {
		t.Fatal(err)
	}
	var again T
	if rev, err := decodeInto(c, b, nil, &again); err != nil || rev != 8 || !reflect.DeepEqual(again, want) {
		t.Fatalf("%s in formatV2: revision %d, %v\ngot  %+v\nwant %+v", name, rev, err, again, want)
	}
	t.Logf("%s: %d bytes in formatV1, %d in formatV2", name, len(raw), len(b))
}

func TestUnknownFormat(t *testing.T) {
	c, _ := newCodec[detector.AddrState](nil, "Addr", "Rev")
	var a detector.AddrState
	for _, raw := range [][]byte{{5, 3, 0}, {5}, {5, 0}} {
		if rev, err := decodeInto(c, raw, nil, &a); !errors.Is(err, errUnknownFormat) || rev != 5 {
			t.Errorf("%x: revision %d, %v", raw, rev, err)
		}
	}
	// An undone write of a key that was absent: the empty state.
	a.Seen = time.Now()
	if rev, err := decodeInto(c, []byte{5, formatV2, 2}, []byte{}, &a); err != nil || rev != 5 || !reflect.DeepEqual(a, detector.AddrState{}) {
		t.Errorf("empty body: revision %d, %v, %+v", rev, err, a)
	}
}
