package redisstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
)

// decodeStructs reads a slice of structs as appendStructs wrote it (in
// formatV1: by rows, without a header).
func decodeStructs(r *reader, ep *plan, v reflect.Value) error {
	if r.v1 {
		return decodeRows(r, ep, v)
	}
	if !r.more() {
		v.Set(reflect.MakeSlice(v.Type(), 0, 0)) // present but empty stays non-nil
		return nil
	}
	h, err := r.uvarint()
	switch {
	case err != nil:
		return err
	case h == 0:
		return decodeRows(r, ep, v)
	case h&1 == 0:
		return fmt.Errorf("bad list header %d", h)
	case h>>1 > uint64(r.remaining()):
		return errTruncated
	}
	n := int(h >> 1)
	v.Set(reflect.MakeSlice(v.Type(), n, n))
	for r.more() {
		key, err := r.uvarint()
		if err != nil {
			return err
		}
		f := ep.field(key)
		if err := decodeColumn(r, f, wireType(key&3), v, n); err != nil {
			if f != nil {
				return fmt.Errorf("%s: %w", f.name, err)
			}
			return err
		}
	}
	return nil
}

var errBadColumn = errors.New("malformed column")

// maxColumnBytes bounds what one column's runs and affixes expand to when
// decoded. Both repeat bytes stored once (a run decodes its value for each
// element, an affix adds its prefix and suffix to each), so a value of B
// bytes could ask for about B²/4: 17 MB from 4 KB, hundreds of gigabytes
// from a megabyte, an out-of-memory crash from one damaged value. A state
// atod wrote stays far below it: lists are capped at 256 entries, and
// identifiers at MaxIDLen.
const maxColumnBytes = 1 << 20

var errColumnTooLarge = errors.New("column expands beyond 1 MiB")

// decodeColumn reads one column into the elements of v, or skips it when
// f is nil.
func decodeColumn(r *reader, f *field, wt wireType, v reflect.Value, n int) error {
	mode := uint64(colPlain)
	if n > 1 {
		var err error
		if mode, err = r.uvarint(); err != nil {
			return err
		}
	}
	one := func(i int) error {
		if f == nil {
			return r.skip(wt)
		}
		return decodeElem(r, f.plan, v.Index(i).Field(f.index))
	}
	switch {
	case mode == colPlain:
		for i := range n {
			if err := one(i); err != nil {
				return err
			}
		}
		return nil
	case mode == colFixed:
		return decodeFixed(r, f, wt, v, n)
	case mode == colAffix:
		return decodeAffix(r, f, wt, v, n)
	}
	count := mode - colRuns + 1
	expanded := 0
	for i := 0; ; {
		if count == 0 || count > uint64(n-i) {
			return errBadColumn
		}
		at := r.off
		for j := range int(count) {
			r.off = at // each element decodes its own copy: no shared pointers
			if err := one(i + j); err != nil {
				return err
			}
			if expanded += r.off - at; expanded > maxColumnBytes {
				return errColumnTooLarge
			}
		}
		if i += int(count); i == n {
			return nil
		}
		var err error
		if count, err = r.uvarint(); err != nil {
			return err
		}
	}
}

func decodeFixed(r *reader, f *field, wt wireType, v reflect.Value, n int) error {
	if wt != wireVarint {
		return errBadColumn
	}
	if r.remaining() < 8*n {
		return errTruncated
	}
	if f == nil {
		r.off += 8 * n
		return nil
	}
	sub := &reader{b: make([]byte, 0, binary.MaxVarintLen64)}
	for i := range n {
		sub.b = binary.AppendUvarint(sub.b[:0], binary.LittleEndian.Uint64(r.b[r.off:]))
		sub.off, sub.end = 0, len(sub.b)
		r.off += 8
		if err := f.plan.dec(sub, v.Index(i).Field(f.index)); err != nil {
			return err
		}
	}
	return nil
}

func decodeAffix(r *reader, f *field, wt wireType, v reflect.Value, n int) error {
	if wt != wireBytes {
		return errBadColumn
	}
	prefix, err := r.bytes()
	if err != nil {
		return err
	}
	suffix, err := r.bytes()
	if err != nil {
		return err
	}
	sub := &reader{base: r.base}
	var buf []byte
	expanded := 0
	for i := range n {
		mid, err := r.bytes()
		if err != nil || f == nil {
			if err != nil {
				return err
			}
			continue
		}
		if expanded += len(prefix) + len(mid) + len(suffix); expanded > maxColumnBytes {
			return errColumnTooLarge
		}
		buf = append(append(append(buf[:0], prefix...), mid...), suffix...)
		sub.b, sub.off, sub.end = buf, 0, len(buf)
		if err := f.plan.dec(sub, v.Index(i).Field(f.index)); err != nil {
			return err
		}
	}
	return nil
}
