package redisstore

import (
	"fmt"
	"reflect"
	"time"
)

// appendValue appends the encoding of v (a formatV2 body) to b.
func (c *codec[T]) appendValue(b []byte, v *T) ([]byte, error) {
	rv := reflect.ValueOf(v).Elem()
	e := encoder{b: b, base: timeEpoch}
	var base time.Time
	if c.base >= 0 {
		base = *(*time.Time)(rv.Field(c.base).Addr().UnsafePointer())
	}
	if !base.IsZero() {
		base = time.Unix(clampUnix(base.Unix()), 0)
	}
	e.b = appendTime(e.b, base, timeEpoch)
	if !base.IsZero() { // cut to seconds, 0001-01-01 00:00:00.5 is zero
		e.base = base.Unix()
	}
	c.root.enc(&e, rv)
	return e.b, e.err
}

// decode replaces *v with the value encoded in b, a formatV2 body.
func (c *codec[T]) decode(b []byte, v *T) error {
	r := newReader(b)
	h, nsec, err := r.pair()
	if err != nil {
		return fmt.Errorf("base time: %w", err)
	}
	base, err := decodeTime(h, nsec, timeEpoch)
	if err != nil {
		return fmt.Errorf("base time: %w", err)
	}
	r.base = timeEpoch
	if !base.IsZero() {
		r.base = clampUnix(base.Unix())
	}
	return c.root.dec(r, reflect.ValueOf(v).Elem())
}

// decodeBody decodes a value's body behind its format byte (see
// parseValue); an empty one is the empty state.
func (c *codec[T]) decodeBody(b []byte, v *T) error {
	if len(b) == 0 {
		var zero T
		*v = zero
		return nil
	}
	switch b[0] {
	case formatV2:
		return c.decode(b[1:], v)
	case formatV1:
		r := newReader(b[1:])
		r.v1 = true
		return c.root.dec(r, reflect.ValueOf(v).Elem())
	}
	return errUnknownFormat
}
