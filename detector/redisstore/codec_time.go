package redisstore

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"time"
)

// Times are stored relative to a base, in the coarsest unit that holds
// them exactly: a uvarint h whose low two bits say the unit and whose rest
// is the zigzagged difference. A value's base is its first top-level time
// (the state's Seen, which most of its times are close to), cut to whole
// seconds and stored at its head relative to timeEpoch; see codec.
//
//	h&3 == 0  seconds
//	h&3 == 1  milliseconds
//	h&3 == 2  microseconds plus one; h == 2 is the zero time
//	h&3 == 3  seconds, then a second uvarint with the nanoseconds
//
// An event time a day from the base takes 3 bytes in seconds and 5 in
// milliseconds, against 7 for milliseconds since 1970. Decoded times are in
// UTC: rules compare instants, never zones. Instants 2^60 seconds (36
// billion years) or more from 1970 are clamped to fit.
const (
	timeSec   = 0
	timeMilli = 1
	timeMicro = 2
	timeNano  = 3

	timeZero = timeMicro // with a zero difference

	// timeEpoch (2024-01-01 UTC, in Unix seconds) is the base of the base.
	timeEpoch = 1_704_067_200
	// maxTimeDelta keeps zigzag(d)<<2 within 64 bits.
	maxTimeDelta = 1<<61 - 1
)

func appendTime(b []byte, t time.Time, base int64) []byte {
	if t.IsZero() {
		return append(b, timeZero)
	}
	d := min(max(clampUnix(t.Unix())-base, -maxTimeDelta), maxTimeDelta)
	ns := int64(t.Nanosecond())
	switch {
	case ns == 0:
		return binary.AppendUvarint(b, zigzag(d)<<2|timeSec)
	case ns%1e6 == 0 && d > -1<<50 && d < 1<<50:
		return binary.AppendUvarint(b, zigzag(d*1e3+ns/1e6)<<2|timeMilli)
	case ns%1e3 == 0 && d > -1<<40 && d < 1<<40:
		return binary.AppendUvarint(b, (zigzag(d*1e6+ns/1e3)+1)<<2|timeMicro)
	}
	b = binary.AppendUvarint(b, zigzag(d)<<2|timeNano)
	return binary.AppendUvarint(b, uint64(ns))
}

// clampUnix keeps a base and the instants measured from it apart by less
// than maxTimeDelta.
func clampUnix(sec int64) int64 { return min(max(sec, -1<<60+1), 1<<60-1) }

func decodeTime(h, ns uint64, base int64) (time.Time, error) {
	d := unzigzag(h >> 2)
	switch h & 3 {
	case timeSec:
		return time.Unix(base+d, 0).UTC(), nil
	case timeMilli:
		return time.Unix(base+d/1e3, d%1e3*1e6).UTC(), nil
	case timeMicro:
		if h == timeZero {
			return time.Time{}, nil
		}
		d = unzigzag(h>>2 - 1)
		return time.Unix(base+d/1e6, d%1e6*1e3).UTC(), nil
	}
	if ns >= 1e9 {
		return time.Time{}, errors.New("nanoseconds out of range")
	}
	return time.Unix(base+d, int64(ns)).UTC(), nil
}

// decodeTimeV1: formatV1 stored milliseconds since 1970 when that was
// exact (h even), else seconds and nanoseconds.
func decodeTimeV1(h, nsec uint64) (time.Time, error) {
	if h&1 == 0 {
		return time.UnixMilli(unzigzag(h >> 1)).UTC(), nil
	}
	if nsec >= 1e9 {
		return time.Time{}, errors.New("nanoseconds out of range")
	}
	return time.Unix(unzigzag(h>>1), int64(nsec)).UTC(), nil
}

// Floats are a uvarint h in the same way: GeoIP coordinates have at most
// four decimals, radii and counts none, and as scaled integers they take 1
// to 4 bytes instead of 8. Anything else keeps its 64 bits, byte-reversed
// so that the zero low bytes of short mantissas (float32 values) cost
// nothing. Every form is exact: a float is scaled only if it comes back
// bit for bit.
//
//	h&3 == 0  h>>2 zigzagged is the float times 1e4
//	h&3 == 1  times 1e2
//	h&3 == 2  an integer
//	h&3 == 3  a second uvarint holds the bits
var floatScales = [3]float64{1e4, 1e2, 1}

func appendFloat(b []byte, f float64) []byte {
	for tag := len(floatScales) - 1; tag >= 0; tag-- {
		scale := floatScales[tag]
		if s := math.Round(f * scale); math.Abs(s) < 1<<52 {
			i := int64(s) // -0 becomes 0, which then fails the check
			if math.Float64bits(float64(i)/scale) == math.Float64bits(f) {
				return binary.AppendUvarint(b, zigzag(i)<<2|uint64(tag))
			}
		}
	}
	b = append(b, 3)
	return binary.AppendUvarint(b, bits.ReverseBytes64(math.Float64bits(f)))
}

func decodeFloat(h, second uint64) float64 {
	if tag := h & 3; tag < 3 {
		return float64(unzigzag(h>>2)) / floatScales[tag]
	}
	return math.Float64frombits(bits.ReverseBytes64(second))
}

// decodeFloatV1: formatV1 stored a float times 1e4 (h even) or its bits.
func decodeFloatV1(h, bits uint64) float64 {
	if h&1 == 0 {
		return float64(unzigzag(h>>1)) / 1e4
	}
	return math.Float64frombits(bits)
}
