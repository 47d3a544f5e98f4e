package redisstore

import (
	"encoding"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"reflect"
	"slices"
	"time"
)

// codec encodes one state type by reflection, so that fields the rules add
// to detector.UserState or AddrState are stored without a change here.
// Fields are keyed by a 12-bit hash of their name and type (two bytes on the
// wire instead of the name), zero fields are left out, and unknown keys are
// skipped: state written by another version of atod still decodes, with
// what it lacks left zero. A field whose type changes gets a new key, so
// its old values read as zero rather than as garbage.
//
// A body (formatV2) starts with its base, the first top-level time field
// cut to whole seconds, which the other times are stored relative to (see
// appendTime); slices of structs are stored by column (see appendStructs).
//
// Plans are built once, when the Store is created: a field of a type the
// format cannot carry (func, chan, interface) fails at start, not mid-run.
type codec[T any] struct {
	root *plan
	base int // index of the field that gives the base; -1: none
}

// plan encodes and decodes one Go type. For wireBytes plans, enc writes the
// body without its length and dec reads a reader holding exactly the body.
type plan struct {
	typ  reflect.Type
	wt   wireType
	kind reflect.Kind // of a struct with exported fields: Struct, else what the plan stores
	enc  func(e *encoder, v reflect.Value)
	dec  func(r *reader, v reflect.Value) error
	zero func(v reflect.Value) bool // whether a field holding v is left out

	// Set when all plans are built (see finish).
	zeroEnc  []byte // the encoding of the zero value, as encodeElem writes it
	fields   []field
	index    *[4096]uint8 // field id to its position in fields, plus one
	columnar bool         // a list of these is stored by column
}

type encoder struct {
	b    []byte
	err  error
	base int64 // Unix seconds that times are relative to
}

type field struct {
	index int
	id    uint64
	name  string
	plan  *plan
}

// newCodec returns the codec of T, which must be a struct; the top-level
// fields named in skip are neither written nor read (the store keeps the
// key and the revision elsewhere). String fields tagged `store:"account"`
// are sealed with seal (see sealer), or kept in clear when it is nil.
func newCodec[T any](seal *sealer, skip ...string) (*codec[T], error) {
	bd := builder{plans: make(map[reflect.Type]*plan), seal: seal}
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("codec of %s: not a struct", t)
	}
	p := &plan{}
	if err := bd.fillStruct(p, t, skip...); err != nil {
		return nil, err
	}
	p.typ = t
	for _, q := range bd.plans {
		q.finish()
	}
	p.finish()
	c := &codec[T]{root: p, base: -1}
	for _, f := range p.fields {
		if t.Field(f.index).Type == timeType {
			c.base = f.index
			break
		}
	}
	return c, nil
}

func encodeElem(e *encoder, p *plan, v reflect.Value) {
	if p.wt != wireBytes {
		p.enc(e, v)
		return
	}
	var start int
	e.b, start = beginDelimited(e.b)
	p.enc(e, v)
	e.b = finishDelimited(e.b, start)
}

// decodeElem decodes one value; for a length-delimited one, r is narrowed
// to its body for the call and then moved past it (no reader per value).
func decodeElem(r *reader, p *plan, v reflect.Value) error {
	if p.wt != wireBytes {
		return p.dec(r, v)
	}
	n, err := r.length()
	if err != nil {
		return err
	}
	end := r.end
	r.end = r.off + n
	err = p.dec(r, v)
	r.off, r.end = r.end, end
	return err
}

var (
	timeType        = reflect.TypeFor[time.Time]()
	appenderType    = reflect.TypeFor[encoding.BinaryAppender]()
	marshalerType   = reflect.TypeFor[encoding.BinaryMarshaler]()
	unmarshalerType = reflect.TypeFor[encoding.BinaryUnmarshaler]()
)

type builder struct {
	plans map[reflect.Type]*plan
	seal  *sealer
}

// plan returns the plan of t; a type that contains itself gets the plan
// under construction.
func (bd *builder) plan(t reflect.Type) (*plan, error) {
	if p, ok := bd.plans[t]; ok {
		return p, nil
	}
	p := &plan{typ: t, kind: t.Kind(), zero: reflect.Value.IsZero}
	bd.plans[t] = p
	if err := bd.fill(p, t); err != nil {
		delete(bd.plans, t)
		return nil, err
	}
	return p, nil
}

func (bd *builder) fill(p *plan, t reflect.Type) error {
	switch {
	case t == timeType:
		p.wt, p.enc, p.dec, p.zero, p.kind = wirePair, encTime, decTime, zeroTime, reflect.Invalid
		return nil
	case (t.Implements(appenderType) || t.Implements(marshalerType)) && reflect.PointerTo(t).Implements(unmarshalerType):
		p.wt, p.enc, p.dec, p.kind = wireBytes, encBinary, decBinary, reflect.Invalid
		return nil
	}
	switch t.Kind() {
	case reflect.Bool:
		p.wt, p.enc, p.dec = wireVarint, encBool, decBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		p.wt, p.enc, p.dec = wireVarint, encInt, decInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		p.wt, p.enc, p.dec = wireVarint, encUint, decUint
	case reflect.Float32, reflect.Float64:
		p.wt, p.enc, p.dec = wirePair, encFloat, decFloat
	case reflect.String:
		p.wt, p.enc, p.dec = wireBytes, encString, decString
	case reflect.Slice, reflect.Array:
		return bd.fillList(p, t)
	case reflect.Map:
		return bd.fillMap(p, t)
	case reflect.Pointer:
		return bd.fillPointer(p, t)
	case reflect.Struct:
		return bd.fillStruct(p, t)
	default:
		return fmt.Errorf("type %s cannot be stored in Redis: give the field a plain type", t)
	}
	return nil
}

func (bd *builder) fillStruct(p *plan, t reflect.Type, skip ...string) error {
	var fields []field
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || slices.Contains(skip, sf.Name) {
			continue
		}
		fp, err := bd.plan(sf.Type)
		if err == nil && sf.Tag.Get("store") == "account" {
			fp, err = bd.accountPlan(sf.Type)
		}
		if err != nil {
			return fmt.Errorf("%s.%s: %w", t, sf.Name, err)
		}
		f := field{index: i, id: fieldID(sf), name: sf.Name, plan: fp}
		for _, g := range fields {
			if g.id == f.id {
				return fmt.Errorf("%s: fields %s and %s hash to the same wire key %d; rename one of them", t, g.name, f.name, f.id)
			}
		}
		fields = append(fields, f)
	}
	// index maps a field id to its position in fields (plus one).
	var index [4096]uint8
	if len(fields) > 255 {
		return fmt.Errorf("%s: more than 255 fields", t)
	}
	for i, f := range fields {
		index[f.id] = uint8(i + 1)
	}
	p.fields, p.index = fields, &index
	p.wt = wireBytes
	p.enc = func(e *encoder, v reflect.Value) {
		for i := range fields {
			f := &fields[i]
			fv := v.Field(f.index)
			if f.plan.kind != reflect.Struct {
				if f.plan.zero(fv) {
					continue
				}
				e.b = binary.AppendUvarint(e.b, f.id<<2|uint64(f.plan.wt))
				encodeElem(e, f.plan, fv)
				continue
			}
			// A struct is left out when its body comes out empty, which
			// costs less than asking reflect whether it is zero first.
			mark := len(e.b)
			e.b = binary.AppendUvarint(e.b, f.id<<2|uint64(f.plan.wt))
			var start int
			e.b, start = beginDelimited(e.b)
			f.plan.enc(e, fv)
			if len(e.b) == start+1 {
				e.b = e.b[:mark]
				continue
			}
			e.b = finishDelimited(e.b, start)
		}
	}
	p.dec = func(r *reader, v reflect.Value) error {
		v.SetZero()
		for r.more() {
			key, err := r.uvarint()
			if err != nil {
				return err
			}
			f := p.field(key)
			if f == nil {
				wt := wireType(key & 3)
				if err := r.skip(wt); err != nil {
					return err
				}
				continue
			}
			if err := decodeElem(r, f.plan, v.Field(f.index)); err != nil {
				return fmt.Errorf("%s: %w", f.name, err)
			}
		}
		return nil
	}
	return nil
}

// field returns the field a key names, or nil for a field this version
// does not know or knows with another wire type.
func (p *plan) field(key uint64) *field {
	id, wt := key>>2, wireType(key&3)
	if id >= uint64(len(p.index)) || p.index[id] == 0 {
		return nil
	}
	if f := &p.fields[p.index[id]-1]; f.plan.wt == wt {
		return f
	}
	return nil
}

// finish completes a plan once every plan exists (recursive types refer to
// plans under construction).
func (p *plan) finish() {
	var e encoder
	encodeElem(&e, p, reflect.New(p.typ).Elem())
	p.zeroEnc = e.b
	p.columnar = p.kind == reflect.Struct && len(p.fields) > 0
	for _, f := range p.fields {
		// By column, an empty slice or map would come back nil.
		if k := f.plan.kind; k == reflect.Slice || k == reflect.Map {
			p.columnar = false
		}
	}
}

// fieldID hashes a field's name and type into 1..4095, so that its key
// (id<<2 | wire type) fits two varint bytes.
func fieldID(sf reflect.StructField) uint64 {
	h := fnv.New32a()
	h.Write([]byte(sf.Name + " " + sf.Type.String()))
	return 1 + uint64(h.Sum32()%4095)
}

// nilIfEmpty turns an empty slice or map inside a collection into nil. A
// struct field keeps nil and empty apart (an empty one is present on the
// wire, a nil one is not), but an element has no such mark, and nil is what
// Go code usually holds.
func nilIfEmpty(v reflect.Value) {
	if k := v.Kind(); (k == reflect.Slice || k == reflect.Map) && v.Len() == 0 {
		v.SetZero()
	}
}
