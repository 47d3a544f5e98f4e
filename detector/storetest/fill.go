package storetest

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
	"time"
)

// Fill sets *v, any struct, to random values: every exported field, nested
// structs, slices, maps and pointers included, with zero values and empty
// collections mixed in. Round-trip tests built on it cover the fields the
// rules add later without being updated.
func Fill(r *rand.Rand, v any) {
	fill(r, reflect.ValueOf(v).Elem(), 0)
}

var (
	timeType   = reflect.TypeFor[time.Time]()
	addrType   = reflect.TypeFor[netip.Addr]()
	prefixType = reflect.TypeFor[netip.Prefix]()
)

func fill(r *rand.Rand, v reflect.Value, depth int) {
	v.SetZero()
	if r.IntN(5) == 0 { // a zero value now and then
		return
	}
	switch v.Type() {
	case timeType:
		v.Set(reflect.ValueOf(randomTime(r)))
		return
	case addrType:
		v.Set(reflect.ValueOf(randomAddr(r)))
		return
	case prefixType:
		a := randomAddr(r)
		v.Set(reflect.ValueOf(netip.PrefixFrom(a, r.IntN(a.BitLen()+1))))
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i := r.Int64() >> r.IntN(64)
		if r.IntN(2) == 0 {
			i = -i
		}
		if !v.OverflowInt(i) {
			v.SetInt(i)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := r.Uint64() >> r.IntN(64); !v.OverflowUint(u) {
			v.SetUint(u)
		}
	case reflect.Float32, reflect.Float64:
		f := r.NormFloat64() * 1000
		if r.IntN(2) == 0 { // what GeoIP gives: four decimals
			f = float64(int64(f*1e4)) / 1e4
		}
		v.SetFloat(f)
	case reflect.String:
		const alphabet = "abcdefghijklmnopqrstuvwxyz.@-_0123456789äöü€\x00"
		runes := []rune(alphabet)
		s := make([]rune, r.IntN(40))
		for i := range s {
			s[i] = runes[r.IntN(len(runes))]
		}
		v.SetString(string(s))
	case reflect.Slice:
		n := r.IntN(4)
		if n == 0 && depth > 1 {
			return // inside a collection, empty is nil; see redisstore's codec
		}
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			fill(r, v.Index(i), depth+1)
		}
	case reflect.Array:
		for i := range v.Len() {
			fill(r, v.Index(i), depth+1)
		}
	case reflect.Map:
		n := r.IntN(4)
		if n == 0 && depth > 1 {
			return
		}
		v.Set(reflect.MakeMap(v.Type()))
		for range n {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(r, k, depth+1)
			fill(r, e, depth+1)
			v.SetMapIndex(k, e)
		}
	case reflect.Pointer:
		if depth < 4 {
			v.Set(reflect.New(v.Type().Elem()))
			fill(r, v.Elem(), depth+1)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(r, v.Field(i), depth+1)
			}
		}
	}
}

// randomTime returns a UTC instant, at millisecond precision (as event
// times usually are) or at nanosecond precision.
func randomTime(r *rand.Rand) time.Time {
	sec := r.Int64N(5e9) - 1e9 // 1938 to 2128
	nsec := r.Int64N(1e9)
	if r.IntN(2) == 0 {
		nsec -= nsec % 1e6
	}
	return time.Unix(sec, nsec).UTC()
}

func randomAddr(r *rand.Rand) netip.Addr {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	if r.IntN(2) == 0 {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b)
}
