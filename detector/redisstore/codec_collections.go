package redisstore

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
)

// Collections: slices and arrays are their elements one after another,
// maps their keys and values in turn, each element as it would be on its
// own (length-prefixed where its wire type says so). Slices of structs are
// stored by column instead (see appendStructs).

func (bd *builder) fillList(p *plan, t reflect.Type) error {
	p.wt = wireBytes
	if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice {
		p.enc = func(e *encoder, v reflect.Value) { e.b = append(e.b, v.Bytes()...) }
		p.dec = func(r *reader, v reflect.Value) error {
			v.SetBytes(bytes.Clone(r.rest()))
			r.consumeAll()
			return nil
		}
		return nil
	}
	ep, err := bd.plan(t.Elem())
	if err != nil {
		return err
	}
	if t.Kind() == reflect.Slice && ep.kind == reflect.Struct {
		p.enc = func(e *encoder, v reflect.Value) { appendStructs(e, ep, v) }
		p.dec = func(r *reader, v reflect.Value) error { return decodeStructs(r, ep, v) }
		return nil
	}
	p.enc = func(e *encoder, v reflect.Value) { appendRows(e, ep, v) }
	if t.Kind() == reflect.Array {
		p.dec = func(r *reader, v reflect.Value) error {
			v.SetZero()
			for i := 0; r.more(); i++ {
				if i >= v.Len() {
					return fmt.Errorf("more than %d elements for %s", v.Len(), t)
				}
				if err := decodeElem(r, ep, v.Index(i)); err != nil {
					return err
				}
				nilIfEmpty(v.Index(i))
			}
			return nil
		}
		return nil
	}
	p.dec = func(r *reader, v reflect.Value) error { return decodeRows(r, ep, v) }
	return nil
}

// appendRows writes the elements of a list one after another.
func appendRows(e *encoder, ep *plan, v reflect.Value) {
	for i := range v.Len() {
		encodeElem(e, ep, v.Index(i))
	}
}

// decodeRows reads what appendRows wrote into the slice v.
func decodeRows(r *reader, ep *plan, v reflect.Value) error {
	// Counting first, by skipping, allocates the slice once.
	count := *r
	n := 0
	for ; count.more(); n++ {
		if err := count.skip(ep.wt); err != nil {
			return err
		}
	}
	v.Set(reflect.MakeSlice(v.Type(), n, n)) // present but empty stays non-nil
	for i := range n {
		if err := decodeElem(r, ep, v.Index(i)); err != nil {
			return err
		}
		nilIfEmpty(v.Index(i))
	}
	return nil
}

func (bd *builder) fillMap(p *plan, t reflect.Type) error {
	kp, err := bd.plan(t.Key())
	if err != nil {
		return err
	}
	vp, err := bd.plan(t.Elem())
	if err != nil {
		return err
	}
	p.wt = wireBytes
	// Entries are sorted by their encoding, so equal maps encode equally.
	p.enc = func(e *encoder, v reflect.Value) {
		entries := make([][]byte, 0, v.Len())
		for it := v.MapRange(); it.Next(); {
			sub := encoder{base: e.base}
			encodeElem(&sub, kp, it.Key())
			encodeElem(&sub, vp, it.Value())
			if sub.err != nil && e.err == nil {
				e.err = sub.err
			}
			entries = append(entries, sub.b)
		}
		slices.SortFunc(entries, bytes.Compare)
		for _, en := range entries {
			e.b = append(e.b, en...)
		}
	}
	p.dec = func(r *reader, v reflect.Value) error {
		v.Set(reflect.MakeMap(t))
		for r.more() {
			k, val := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
			if err := decodeElem(r, kp, k); err != nil {
				return err
			}
			if err := decodeElem(r, vp, val); err != nil {
				return err
			}
			nilIfEmpty(k)
			nilIfEmpty(val)
			v.SetMapIndex(k, val)
		}
		return nil
	}
	return nil
}

// A pointer's body is empty for nil, else its element, so that a non-nil
// pointer to a zero value survives.
func (bd *builder) fillPointer(p *plan, t reflect.Type) error {
	ep, err := bd.plan(t.Elem())
	if err != nil {
		return err
	}
	p.wt = wireBytes
	p.enc = func(e *encoder, v reflect.Value) {
		if !v.IsNil() {
			encodeElem(e, ep, v.Elem())
		}
	}
	p.dec = func(r *reader, v reflect.Value) error {
		if !r.more() {
			v.SetZero()
			return nil
		}
		v.Set(reflect.New(t.Elem()))
		if err := decodeElem(r, ep, v.Elem()); err != nil {
			return err
		}
		if r.more() {
			return fmt.Errorf("%d stray bytes after %s", r.remaining(), t)
		}
		return nil
	}
	return nil
}
