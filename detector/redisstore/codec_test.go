package redisstore

import (
	"bytes"
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
	c, err := newCodec[T]()
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
	users, err := newCodec[detector.UserState]()
	if err != nil {
		f.Fatal(err)
	}
	sink, err := newCodec[kitchenSink]()
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
		if _, _, err := parseValue(junk); err == nil {
			_ = users.decode(junk[1:], &out)
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
	c1, _ := newCodec[v1]()
	c2, err := newCodec[v2]()
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
	if _, err := newCodec[bad](); err == nil || !strings.Contains(err.Error(), "F") {
		t.Fatalf("newCodec of a func field: %v", err)
	}
}

// Coordinates and millisecond times, what the state mostly holds, are
// short on the wire.
func TestCompactScalars(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		max  int
	}{
		{"latitude", appendFloat(nil, 52.5244), 4},
		{"longitude", appendFloat(nil, -122.4194), 4},
		{"event time", appendTime(nil, time.UnixMilli(1_772_438_400_123)), 7},
		{"nanosecond time", appendTime(nil, time.Unix(1_772_438_400, 1)), 7},
	} {
		if len(tc.b) > tc.max {
			t.Errorf("%s: %d bytes, want at most %d", tc.name, len(tc.b), tc.max)
		}
	}
}
