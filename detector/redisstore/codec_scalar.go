package redisstore

import (
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"time"
)

func encBool(e *encoder, v reflect.Value) {
	var u uint64
	if v.Bool() {
		u = 1
	}
	e.b = binary.AppendUvarint(e.b, u)
}

func decBool(r *reader, v reflect.Value) error {
	u, err := r.uvarint()
	v.SetBool(u != 0)
	return err
}

func encInt(e *encoder, v reflect.Value) { e.b = binary.AppendUvarint(e.b, zigzag(v.Int())) }

func decInt(r *reader, v reflect.Value) error {
	u, err := r.uvarint()
	if err != nil {
		return err
	}
	if i := unzigzag(u); !v.OverflowInt(i) {
		v.SetInt(i)
		return nil
	}
	return fmt.Errorf("%d overflows %s", unzigzag(u), v.Type())
}

func encUint(e *encoder, v reflect.Value) { e.b = binary.AppendUvarint(e.b, v.Uint()) }

func decUint(r *reader, v reflect.Value) error {
	u, err := r.uvarint()
	if err != nil {
		return err
	}
	if v.OverflowUint(u) {
		return fmt.Errorf("%d overflows %s", u, v.Type())
	}
	v.SetUint(u)
	return nil
}

func encFloat(e *encoder, v reflect.Value) { e.b = appendFloat(e.b, v.Float()) }

func decFloat(r *reader, v reflect.Value) error {
	h, second, err := r.pair()
	if r.v1 {
		v.SetFloat(decodeFloatV1(h, second))
	} else {
		v.SetFloat(decodeFloat(h, second))
	}
	return err
}

func encString(e *encoder, v reflect.Value) { e.b = appendString(e.b, v.String()) }

func decString(r *reader, v reflect.Value) error {
	b := r.rest()
	r.consumeAll()
	if r.v1 {
		v.SetString(string(b))
		return nil
	}
	s, err := decodeString(b)
	v.SetString(s)
	return err
}

// accountName is the plans map's key for the plan of account names, which
// are strings stored differently (see builder.accountPlan).
type accountName string

// accountPlan returns the plan of a field tagged `store:"account"`: a
// string sealed with the builder's sealer, or in clear without one. Either
// way a value in clear (from before names were sealed) still decodes.
func (bd *builder) accountPlan(t reflect.Type) (*plan, error) {
	if t.Kind() != reflect.String {
		return nil, fmt.Errorf(`store:"account" on a %s, not a string`, t)
	}
	key := reflect.TypeFor[accountName]()
	if p, ok := bd.plans[key]; ok {
		return p, nil
	}
	seal := bd.seal
	p := &plan{typ: t, kind: reflect.String, wt: wireBytes, zero: reflect.Value.IsZero}
	p.enc = func(e *encoder, v reflect.Value) {
		if seal == nil {
			e.b = appendString(e.b, v.String())
			return
		}
		e.b = append(e.b, seal.seal(v.String())...)
	}
	p.dec = func(r *reader, v reflect.Value) error {
		b := r.rest()
		if r.v1 || len(b) == 0 || b[0] != strSealed {
			return decString(r, v)
		}
		r.consumeAll()
		if seal == nil {
			return errors.New("a sealed account name, and no pseudonym key to open it")
		}
		name, err := seal.open(b)
		v.SetString(name)
		return err
	}
	bd.plans[key] = p
	return p, nil
}

// Values are read and set through pointers where they are addressable
// (always, but for map entries), which saves boxing each one.
func encTime(e *encoder, v reflect.Value) {
	if v.CanAddr() {
		e.b = appendTime(e.b, *(*time.Time)(v.Addr().UnsafePointer()), e.base)
		return
	}
	e.b = appendTime(e.b, v.Interface().(time.Time), e.base)
}

func zeroTime(v reflect.Value) bool {
	if v.CanAddr() {
		return *(*time.Time)(v.Addr().UnsafePointer()) == time.Time{}
	}
	return v.IsZero()
}

func decTime(r *reader, v reflect.Value) error {
	h, nsec, err := r.pair()
	if err != nil {
		return err
	}
	var t time.Time
	if r.v1 {
		t, err = decodeTimeV1(h, nsec)
	} else {
		t, err = decodeTime(h, nsec, r.base)
	}
	*(*time.Time)(v.Addr().UnsafePointer()) = t
	return err
}

// encBinary stores types that know their own binary form, such as
// netip.Addr and netip.Prefix.
func encBinary(e *encoder, v reflect.Value) {
	var err error
	if v.CanAddr() {
		v = v.Addr()
	}
	switch m := v.Interface().(type) {
	case encoding.BinaryAppender:
		e.b, err = m.AppendBinary(e.b)
	case encoding.BinaryMarshaler:
		var b []byte
		b, err = m.MarshalBinary()
		e.b = append(e.b, b...)
	}
	if err != nil && e.err == nil {
		e.err = fmt.Errorf("encoding %s: %w", v.Type(), err)
	}
}

func decBinary(r *reader, v reflect.Value) error {
	err := v.Addr().Interface().(encoding.BinaryUnmarshaler).UnmarshalBinary(r.rest())
	r.consumeAll()
	return err
}
