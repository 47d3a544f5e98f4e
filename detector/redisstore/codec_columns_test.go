package redisstore

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
)

// colProbe has a field of every kind a column holds.
type colProbe struct {
	S   string
	U   uint64
	I   int8
	T   time.Time
	F   float64
	IP  netip.Addr
	Net netip.Prefix
	B   bool
	P   *int16
	N   struct {
		X int
		Y string
	}
	A [2]uint8
}

// rowsElem has a slice: lists of it go by rows, which keep empty and nil
// apart.
type rowsElem struct {
	S    []int
	Name string
}

type colState struct {
	Seen  time.Time
	Cols  []colProbe
	Rows  []rowsElem
	Inner []struct{ Cols []colProbe } // columns inside rows
	Map   map[string][]colProbe
}

// randomProbe draws from small pools, so that runs, shared prefixes and
// zero columns come up.
func randomProbe(r *rand.Rand, base time.Time) colProbe {
	pick := func(n int) int { return r.IntN(n) }
	strs := []string{"", "ev-0001468", "ev-0002123", "0b5c6a4e-8f0e-4d5b-9a1c-3f2e1d0c9b8a", "\x00x", "DE", "ev-", "a@example.org"}
	ips := []netip.Addr{{}, netip.MustParseAddr("62.216.4.154"), netip.MustParseAddr("62.216.4.155"),
		netip.MustParseAddr("::ffff:62.216.4.154"), netip.MustParseAddr("2003:e0::111d"), netip.MustParseAddr("fe80::1%eth0")}
	nets := []netip.Prefix{{}, netip.MustParsePrefix("62.216.4.0/24"), netip.MustParsePrefix("2003:e0::/48")}
	var p colProbe
	p.S = strs[pick(len(strs))]
	p.U = []uint64{0, 1, 8881, 1<<64 - 1, r.Uint64()}[pick(5)]
	p.I = int8(pick(3) - 1)
	if pick(4) > 0 {
		p.T = base.Add(-time.Duration(pick(3)) * 1500 * time.Millisecond)
	}
	p.F = []float64{0, 48.1351, -33.8688, 0.1}[pick(4)]
	p.IP = ips[pick(len(ips))]
	p.Net = nets[pick(len(nets))]
	p.B = pick(2) == 0
	if pick(3) == 0 {
		p.P = new(int16)
		*p.P = int16(pick(2))
	}
	p.N.X, p.N.Y = pick(2), strs[pick(3)]
	p.A[pick(2)] = uint8(pick(2))
	return p
}

func randomColState(r *rand.Rand) colState {
	base := time.UnixMilli(1_772_652_739_863).UTC()
	list := func() []colProbe {
		n := []int{0, 1, 2, 3, 8, 16, 17, 200}[r.IntN(8)]
		if n == 0 && r.IntN(2) == 0 {
			return nil
		}
		l := make([]colProbe, n)
		for i := range l {
			if i > 0 && r.IntN(3) == 0 {
				l[i] = l[i-1]
				if l[i].P != nil {
					p := *l[i].P
					l[i].P = &p
				}
				continue
			}
			l[i] = randomProbe(r, base)
		}
		return l
	}
	s := colState{Seen: base, Cols: list()}
	if r.IntN(2) == 0 {
		s.Rows = []rowsElem{{S: []int{}}, {}, {S: []int{1}, Name: "x"}}[:r.IntN(4)]
		s.Inner = make([]struct{ Cols []colProbe }, r.IntN(3))
		for i := range s.Inner {
			s.Inner[i].Cols = list()
			if s.Inner[i].Cols != nil && len(s.Inner[i].Cols) == 0 {
				s.Inner[i].Cols = nil // an element's empty list comes back nil
			}
		}
		s.Map = map[string][]colProbe{"a": list()}
		if len(s.Map["a"]) == 0 {
			s.Map["a"] = nil
		}
	}
	return s
}

func TestColumnsRoundTrip(t *testing.T) {
	c, err := newCodec[colState](nil)
	if err != nil {
		t.Fatal(err)
	}
	modes := make(map[int]int)
	for seed := range uint64(3000) {
		in := randomColState(rand.New(rand.NewPCG(seed, 11)))
		b, err := c.appendValue(nil, &in)
		if err != nil {
			t.Fatal(err)
		}
		var out colState
		if err := c.decode(b, &out); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if !reflect.DeepEqual(in, out) {
			t.Fatalf("seed %d:\nin  %+v\nout %+v", seed, in, out)
		}
		if again, _ := c.appendValue(nil, &out); !bytes.Equal(b, again) {
			t.Fatalf("seed %d: encoding is not deterministic", seed)
		}
		for i := 1; i < len(out.Cols); i++ {
			if out.Cols[i].P != nil && out.Cols[i].P == out.Cols[i-1].P {
				t.Fatalf("seed %d: elements %d and %d share a pointer", seed, i-1, i)
			}
		}
		countModes(t, c.root, b, modes)
	}
	for _, m := range []int{colPlain, colFixed, colAffix, colRuns} {
		if modes[m] == 0 {
			t.Errorf("no column in mode %d: %v", m, modes)
		}
	}
}

// countModes counts the modes of the top-level Cols list's columns.
func countModes(t *testing.T, root *plan, b []byte, modes map[int]int) {
	r := newReader(b)
	_, _, _ = r.pair() // the base
	for r.more() {
		key, _ := r.uvarint()
		f := root.field(key)
		if f == nil || f.name != "Cols" {
			_ = r.skip(wireType(key & 3))
			continue
		}
		body, _ := r.bytes()
		l := newReader(body)
		h, _ := l.uvarint()
		if h&1 == 0 || h < 5 { // rows, or fewer than two elements
			return
		}
		n := int(h >> 1)
		for l.more() {
			key, _ := l.uvarint()
			at := l.off
			mode, _ := l.uvarint()
			modes[min(int(mode), colRuns)]++
			l.off = at
			if err := decodeColumn(l, nil, wireType(key&3), reflect.Value{}, n); err != nil {
				t.Fatalf("skipping a column: %v", err)
			}
		}
	}
}

// A run longer than a one-byte count, and lists that must go by rows.
func TestColumnsEdges(t *testing.T) {
	c, err := newCodec[colState](nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := time.UnixMilli(1_772_652_739_863).UTC()
	long := make([]colProbe, 300)
	for i := range long {
		long[i].S, long[i].U = "same", uint64(i/150)
	}
	long[299].S = "other"
	for name, in := range map[string]colState{
		"long runs":      {Seen: seen, Cols: long},
		"zero elements":  {Seen: seen, Cols: make([]colProbe, 5)},
		"empty":          {Seen: seen, Cols: []colProbe{}},
		"rows":           {Rows: []rowsElem{{S: []int{}}, {S: nil}, {Name: "\x00"}}},
		"no base":        {Cols: []colProbe{{T: seen}, {T: seen.Add(time.Nanosecond)}}},
		"base cut to 0":  {Seen: time.Date(1, 1, 1, 0, 0, 0, 5e8, time.UTC), Cols: []colProbe{{T: seen}}},
		"one zero field": {Seen: seen, Cols: []colProbe{{}, {}, {B: true}}},
	} {
		b, err := c.appendValue(nil, &in)
		if err != nil {
			t.Fatal(err)
		}
		var out colState
		if err := c.decode(b, &out); err != nil || !reflect.DeepEqual(in, out) {
			t.Errorf("%s: %v\nin  %+v\nout %+v", name, err, in, out)
		}
	}
}

// The demo tenant's states survive, and pack as expected.
func TestColumnsDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("replays the demo tenant")
	}
	us, as, uc, ac := demoCodecs(t)
	for i := range us {
		b, _ := uc.appendValue(nil, &us[i])
		var out detector.UserState
		if err := uc.decode(b, &out); err != nil {
			t.Fatal(err)
		}
		out.User, out.Rev = us[i].User, us[i].Rev
		if !reflect.DeepEqual(us[i], out) {
			t.Fatalf("%s:\nin  %+v\nout %+v", us[i].User, us[i], out)
		}
	}
	for i := range as {
		b, _ := ac.appendValue(nil, &as[i])
		var out detector.AddrState
		if err := ac.decode(b, &out); err != nil {
			t.Fatal(err)
		}
		out.Addr, out.Rev = as[i].Addr, as[i].Rev
		if !reflect.DeepEqual(as[i], out) {
			t.Fatalf("%s:\nin  %+v\nout %+v", as[i].Addr, as[i], out)
		}
	}
}

// Three sessions-like elements: event ids share a prefix, hashes are 8
// bytes each, a coordinate repeats.
func TestColumnsPack(t *testing.T) {
	c, _ := newCodec[colState](nil)
	seen := time.UnixMilli(1_772_652_739_863).UTC()
	in := colState{Seen: seen, Cols: []colProbe{
		{S: "ev-0001468", U: 1<<64 - 1, F: 48.1351},
		{S: "ev-0002123", U: 1<<63 + 5, F: 48.1351},
		{S: "ev-0004059", U: 1<<63 + 7, F: 48.1351},
	}}
	b, _ := c.appendValue(nil, &in)
	// base 5; Seen: key 2, 863 ms 2; Cols: key 2, length 1, count 1;
	// S: key 2, mode 1, prefix 1+6, suffix 1, 3 middles of 1+4;
	// U: key 2, mode 1, 3 times 8; F: key 2, a run of 3 (the mode) and 4.
	const want = 5 + 4 + 4 + (2 + 1 + 7 + 1 + 15) + (2 + 1 + 24) + (2 + 1 + 4)
	if len(b) != want {
		t.Errorf("%d bytes, want %d: %x", len(b), want, b)
	}
}
