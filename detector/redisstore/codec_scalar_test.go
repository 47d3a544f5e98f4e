package redisstore

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
)

func TestTimeRoundTrip(t *testing.T) {
	base := time.Date(2026, 3, 4, 19, 32, 19, 0, time.UTC)
	bases := []time.Time{base, time.Unix(timeEpoch, 0), time.Unix(-1e10, 0), time.Unix(1<<60-1, 0), time.Unix(-1<<60+1, 0)}
	times := []time.Time{
		{},
		base,
		base.Add(863 * time.Millisecond),
		base.Add(-24 * time.Hour),
		base.Add(-30*24*time.Hour + 1),
		base.Add(17 * time.Microsecond),
		base.Add(-17 * time.Microsecond),
		base.Add(-1500 * time.Millisecond),
		base.Add(time.Hour),
		time.Unix(0, 0),
		time.Unix(-1, 500e6),
		time.Unix(0, 1),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Unix(1<<60-1, 999e6),
		time.Unix(-1<<60+1, 0),
		time.Unix(1<<59, 1),
	}
	for _, b := range bases {
		for _, tm := range times {
			enc := appendTime(nil, tm, b.Unix())
			r := newReader(enc)
			h, ns, err := r.pair()
			if err != nil || r.more() {
				t.Fatalf("%v from %v: reading %x: %v, %d bytes left", tm, b, enc, err, r.remaining())
			}
			got, err := decodeTime(h, ns, b.Unix())
			if err != nil || got != tm.UTC() {
				t.Errorf("%v from %v: got %v (%x), %v", tm, b, got, enc, err)
			}
		}
	}
	// In another zone, the same instant comes back in UTC.
	berlin := time.FixedZone("CET", 3600)
	h, _ := binary.Uvarint(appendTime(nil, base.In(berlin).Add(time.Second), base.Unix()))
	if got, _ := decodeTime(h, 0, base.Unix()); got != base.Add(time.Second) {
		t.Errorf("zoned time: got %v", got)
	}
}

func TestTimeUnits(t *testing.T) {
	base := time.Unix(1_772_438_400, 0)
	for _, tc := range []struct {
		d    time.Duration
		unit uint64
	}{
		{0, timeSec},
		{-24 * time.Hour, timeSec},
		{time.Millisecond, timeMilli},
		{-time.Millisecond, timeMilli},
		{time.Microsecond, timeMicro},
		{time.Nanosecond, timeNano},
		{time.Second + 100*time.Nanosecond, timeNano},
	} {
		if b := appendTime(nil, base.Add(tc.d), base.Unix()); uint64(b[0]&3) != tc.unit {
			t.Errorf("%v from the base: unit %d, want %d", tc.d, b[0]&3, tc.unit)
		}
	}
}

func TestDecodeTimeRejects(t *testing.T) {
	if _, err := decodeTime(timeNano, 1e9, 0); err == nil {
		t.Error("1e9 nanoseconds accepted")
	}
	if got, err := decodeTime(timeZero, 0, 12345); err != nil || !got.IsZero() {
		t.Errorf("zero time: %v, %v", got, err)
	}
}

func TestFloatRoundTrip(t *testing.T) {
	for _, f := range []float64{
		0, math.Copysign(0, -1), 1, -1, 20, 52.52, 48.1351, -122.4194, 13.405, 0.1, 0.7, 1e300, -1e-300,
		math.SmallestNonzeroFloat64, math.MaxFloat64, 1 << 53, -(1 << 60), 123456789.0123,
		float64(float32(0.1)), float64(float32(48.1351)),
		math.Inf(1), math.Inf(-1), math.NaN(), math.Float64frombits(0x7ff8000000000123), math.Float64frombits(0xfff0000000000001),
	} {
		enc := appendFloat(nil, f)
		r := newReader(enc)
		h, second, err := r.pair()
		if err != nil || r.more() {
			t.Fatalf("%v: reading %x: %v", f, enc, err)
		}
		if got := decodeFloat(h, second); math.Float64bits(got) != math.Float64bits(f) {
			t.Errorf("%v (%#x): got %v (%#x) from %x", f, math.Float64bits(f), got, math.Float64bits(got), enc)
		}
	}
	for _, tc := range []struct {
		f   float64
		max int
	}{{0, 1}, {20, 2}, {52.52, 3}, {48.1351, 4}, {float64(float32(0.1)), 7}} {
		if n := len(appendFloat(nil, tc.f)); n > tc.max {
			t.Errorf("%v: %d bytes, want at most %d", tc.f, n, tc.max)
		}
	}
}

func TestStringRoundTrip(t *testing.T) {
	const uuid = "0b5c6a4e-8f0e-4d5b-9a1c-3f2e1d0c9b8a"
	for _, tc := range []struct {
		s    string
		size int // encoded; 0: not checked
	}{
		{"", 0},
		{"a", 1},
		{uuid, 17},
		{"00000000-0000-0000-0000-000000000000", 17},
		{"ffffffff-ffff-ffff-ffff-ffffffffffff", 17},
		{"0B5C6A4E-8F0E-4D5B-9A1C-3F2E1D0C9B8A", 36},   // uppercase: kept as it is
		{"0b5c6a4e-8f0e-4d5b-9a1c-3f2e1d0c9b8A", 36},   // one uppercase digit
		{"{0b5c6a4e-8f0e-4d5b-9a1c-3f2e1d0c9b8a}", 38}, // braces
		{"0b5c6a4e8f0e-4d5b-9a1c-3f2e1d0c9b8a-", 36},   // dash moved
		{"0b5c6a4e-8f0e-4d5b-9a1c-3f2e1d0c9b8g", 36},   // not hex
		{"0b5c6a4e-8f0e-4d5b-9a1c-3f2e1d0c9b8", 35},    // short
		{"\x00", 2},
		{"\x01", 2},
		{"\x02", 2}, // the sealed-name marker
		{"\x03", 1},
		{"\x00" + uuid[:16], 18}, // 17 bytes that start like a UUID marker
		{"\x01\x01", 3},
		{"ev-0007472", 10},
		{"bad_password", 12},
	} {
		enc := appendString(nil, tc.s)
		if tc.size > 0 && len(enc) != tc.size {
			t.Errorf("%q: %d bytes, want %d", tc.s, len(enc), tc.size)
		}
		if got, err := decodeString(enc); err != nil || got != tc.s {
			t.Errorf("%q: got %q, %v", tc.s, got, err)
		}
	}
	for _, junk := range [][]byte{{strUUID}, append([]byte{strUUID}, make([]byte, 17)...), {strEscape}, {strEscape, 'a'}} {
		if s, err := decodeString(junk); err == nil {
			t.Errorf("%x decoded as %q", junk, s)
		}
	}
}
