package redisstore

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/storetest"
)

// kitchenSink has every kind the codec carries, so the property test covers
// what the state types do not use yet.
type kitchenSink struct {
	B       bool
	I8      int8
	I       int
	U16     uint16
	U       uint64
	F32     float32
	F       float64
	S       string
	Raw     []byte
	T       time.Time
	D       time.Duration
	IP      netip.Addr
	Net     netip.Prefix
	Arr     [3]int16
	Ptr     *detector.Login
	Map     map[string]detector.KnownNet
	IntMap  map[uint32][]string
	Nested  []detector.Incident
	Nested2 [][]netip.Addr
	hidden  int //nolint:unused // unexported: not stored
}

func roundTrip[T any](t *testing.T, seeds int) {
	t.Helper()
	c, err := newCodec[T](nil)
	if err != nil {
		t.Fatal(err)
	}
	var size int
	for seed := range uint64(seeds) {
		var in, out T
		storetest.Fill(rand.New(rand.NewPCG(seed, 7)), &in)
		b, err := c.appendValue(nil, &in)
		if err != nil {
			t.Fatal(err)
		}
		size += len(b)
		if err := c.decode(b, &out); err != nil {
			t.Fatalf("seed %d: decoding: %v", seed, err)
		}
		if !reflect.DeepEqual(in, out) {
			t.Fatalf("seed %d:\nin  %+v\nout %+v", seed, in, out)
		}
		again, _ := c.appendValue(nil, &out)
		if !bytes.Equal(b, again) {
			t.Fatalf("seed %d: encoding is not deterministic", seed)
		}
	}
	t.Logf("%s: %d bytes on average", reflect.TypeFor[T](), size/seeds)
}

func TestCodecRoundTrip(t *testing.T) {
	t.Run("UserState", func(t *testing.T) { roundTrip[detector.UserState](t, 2000) })
	t.Run("AddrState", func(t *testing.T) { roundTrip[detector.AddrState](t, 2000) })
	t.Run("kitchen sink", func(t *testing.T) { roundTrip[kitchenSink](t, 2000) })
}

// FuzzCodecRoundTrip: random states survive encoding; random bytes decode
// or fail, but never panic.
func FuzzCodecRoundTrip(f *testing.F) {
	f.Add(uint64(1), []byte{})
	f.Add(uint64(2), []byte{0x0a, 0x03, 'a', 'b', 'c'})
	users, err := newCodec[detector.UserState](nil)
	if err != nil {
		f.Fatal(err)
	}
	sink, err := newCodec[kitchenSink](nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, seed uint64, junk []byte) {
		var in, out detector.UserState
		storetest.Fill(rand.New(rand.NewPCG(seed, 3)), &in)
		b, err := users.appendValue(nil, &in)
		if err != nil {
			t.Fatal(err)
		}
		if err := users.decode(b, &out); err != nil || !reflect.DeepEqual(in, out) {
			t.Fatalf("round trip: %v\nin  %+v\nout %+v", err, in, out)
		}
		_ = users.decode(junk, &out)
		var k kitchenSink
		_ = sink.decode(junk, &k)
		if _, body, err := parseValue(junk); err == nil {
			_ = users.decodeBody(body, &out)
		}
	})
}

// Fields added or removed between versions: each side reads what it knows.
type v1 struct {
	Seen  time.Time
	Users []struct{ User string }
}

type v2 struct {
	Seen   time.Time
	Users  []struct{ User string }
	Scores map[string]float64
	Extra  []detector.Incident
}

func TestCodecVersions(t *testing.T) {
	c1, _ := newCodec[v1](nil)
	c2, err := newCodec[v2](nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1_772_438_400_123).UTC()
	newer := v2{Seen: now, Users: []struct{ User string }{{"anna"}}, Scores: map[string]float64{"x": 0.7},
		Extra: []detector.Incident{{Rule: "r", Start: now}}}
	b, _ := c2.appendValue(nil, &newer)
	var old v1
	if err := c1.decode(b, &old); err != nil || !old.Seen.Equal(now) || len(old.Users) != 1 || old.Users[0].User != "anna" {
		t.Fatalf("old reader: %+v, %v", old, err)
	}
	b, _ = c1.appendValue(nil, &old)
	var back v2
	if err := c2.decode(b, &back); err != nil || !back.Seen.Equal(now) || back.Scores != nil || back.Extra != nil {
		t.Fatalf("new reader of old data: %+v, %v", back, err)
	}
}

func TestCodecRefusesUnstorableTypes(t *testing.T) {
	type bad struct {
		OK bool
		F  func()
	}
	if _, err := newCodec[bad](nil); err == nil || !strings.Contains(err.Error(), "F") {
		t.Fatalf("newCodec of a func field: %v", err)
	}
}

// Coordinates and event times, what the state mostly holds, are short on
// the wire.
func TestCompactScalars(t *testing.T) {
	base := time.Unix(1_772_438_400, 0)
	for _, tc := range []struct {
		name string
		b    []byte
		max  int
	}{
		{"latitude", appendFloat(nil, 52.5244), 4},
		{"longitude", appendFloat(nil, -122.4194), 4},
		{"whole number", appendFloat(nil, 20), 2},
		{"event time, a day before the base", appendTime(nil, base.Add(-24*time.Hour+123*time.Millisecond), base.Unix()), 5},
		{"event time in seconds, a day before", appendTime(nil, base.Add(-24*time.Hour), base.Unix()), 3},
		{"the base", appendTime(nil, base, base.Unix()), 1},
		{"nanosecond time", appendTime(nil, base.Add(1), base.Unix()), 2},
		{"zero time", appendTime(nil, time.Time{}, base.Unix()), 1},
		{"UUID", appendString(nil, "0b5c6a4e-8f0e-4d5b-9a1c-3f2e1d0c9b8a"), 17},
	} {
		if len(tc.b) > tc.max {
			t.Errorf("%s: %d bytes, want at most %d", tc.name, len(tc.b), tc.max)
		}
	}
}

// FuzzCodecDecode: any body, in either format, decodes or fails without a
// panic; what decodes encodes again to bytes that decode to the same.
func FuzzCodecDecode(f *testing.F) {
	u, a, k := v1States()
	for _, golden := range []string{v1Golden.user, v1Golden.addr, v1Golden.sink} {
		b, _ := hex.DecodeString(golden)
		f.Add(append([]byte{formatV1}, b...))
	}
	users, _ := newCodec[detector.UserState](nil)
	addrs, _ := newCodec[detector.AddrState](nil)
	sink, _ := newCodec[kitchenSink](nil)
	cols, err := newCodec[colState](nil)
	if err != nil {
		f.Fatal(err)
	}
	sealedAddrs, _ := newCodec[detector.AddrState](newSealer([]byte("a pseudonym key of 32 bytes.....")))
	for _, b := range [][]byte{encodeSeed(users, &u), encodeSeed(addrs, &a), encodeSeed(sink, &k), encodeSeed(sealedAddrs, &a)} {
		f.Add(b)
	}
	for seed := range uint64(8) {
		s := randomColState(rand.New(rand.NewPCG(seed, 11)))
		f.Add(encodeSeed(cols, &s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		stable(t, users, body)
		stable(t, addrs, body)
		stable(t, sink, body)
		stable(t, cols, body)
		stable(t, sealedAddrs, body)
	})
}

func encodeSeed[T any](c *codec[T], v *T) []byte {
	b, _ := c.appendValue([]byte{formatV2}, v)
	return b
}

func stable[T any](t *testing.T, c *codec[T], body []byte) {
	var v T
	if c.decodeBody(body, &v) != nil {
		return
	}
	b, err := c.appendValue(nil, &v)
	if err != nil {
		return // a netip.Addr the decoder took but cannot encode, say
	}
	var again T
	if err := c.decode(b, &again); err != nil {
		t.Fatalf("%T: decoding %x, encoded from %+v: %v", v, b, v, err)
	}
	if b2, _ := c.appendValue(nil, &again); !bytes.Equal(b, b2) {
		t.Fatalf("%T: %x encodes again as %x", v, b, b2)
	}
}
