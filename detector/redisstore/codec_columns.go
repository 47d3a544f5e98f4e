package redisstore

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"sync"
)

// A slice of structs is stored by column: its length, then for each field
// that is not zero in every element, the field's key once and its values
// one per element. A key then costs two bytes per list, not per element,
// and a column can pack values that repeat (a session's place, country and
// network, the time a habit was last used), share a prefix or suffix
// (event ids like ev-0001468, account names) or are 64-bit hashes:
//
//	list   = nothing (empty) | 0, rows | uvarint n<<1|1, column...
//	rows   = each element as encodeElem writes it
//	column = key, then, when n > 1, a uvarint mode:
//	         colPlain   n values
//	         colFixed   n times 8 little-endian bytes (varint columns)
//	         colAffix   a prefix and a suffix, each a length and bytes, then
//	                    n middles, each a length and bytes (bytes columns)
//	         colRuns+k  k+1 elements share the value that follows; then
//	                    (uvarint count, value) until all n have one
//
// Rows are kept for a struct with a slice or map field (a column could not
// tell empty from nil) and for a list whose columns are shorter than its
// length: the decoder allocates no more elements than there are bytes.
const (
	colPlain = 0
	colFixed = 1
	colAffix = 2
	colRuns  = 3
)

func appendStructs(e *encoder, ep *plan, v reflect.Value) {
	n := v.Len()
	if n == 0 {
		return
	}
	start := len(e.b)
	if ep.columnar {
		e.b = binary.AppendUvarint(e.b, uint64(n)<<1|1)
		head := len(e.b)
		if n <= shortList {
			var elems [shortList]reflect.Value
			var ends [shortList]int
			appendColumns(e, ep, v, elems[:0], ends[:0])
		} else {
			sc := columnScratches.Get().(*columnScratch)
			sc.elems, sc.ends = appendColumns(e, ep, v, sc.elems[:0], sc.ends[:0])
			clear(sc.elems) // they point into the state
			columnScratches.Put(sc)
		}
		if len(e.b)-head >= n {
			return
		}
		e.b = e.b[:start]
	}
	e.b = append(e.b, 0)
	appendRows(e, ep, v)
}

// appendColumns appends the columns of v's elements; elems and ends are
// buffers, returned for reuse.
func appendColumns(e *encoder, ep *plan, v reflect.Value, elems []reflect.Value, ends []int) ([]reflect.Value, []int) {
	for i := range v.Len() {
		elems = append(elems, v.Index(i))
	}
	for i := range ep.fields {
		ends = appendColumn(e, &ep.fields[i], elems, ends[:0])
	}
	return elems, ends
}

// shortList is the longest list whose column buffers stay on the stack.
const shortList = 16

// columnScratch holds the buffers of a long list's columns: an address
// that hundreds of accounts failed from (credential stuffing) is encoded
// by every batch that touches it, and growing these per column was a
// fifth of its encoding (BenchmarkCodecCrowdedAddress).
type columnScratch struct {
	elems []reflect.Value
	ends  []int
}

var columnScratches = sync.Pool{New: func() any { return new(columnScratch) }}

// columnStats is what appendColumn learns of a column's values for
// choosing its mode.
type columnStats struct {
	zero     bool // every value is the zero value
	run      int  // elements in the current run
	runs     int  // runs ended
	runsSize int  // the column's size by colRuns

	// Bytes columns: where the first value's bytes are in the buffer, and
	// what every value shares with them.
	firstAt, firstLen    int
	prefix, suffix, size int // size: of the values' lengths and bytes
	shortest             int
}

// appendColumn appends f's column of elems; ends is a buffer for the
// column's value ends, returned for reuse.
func appendColumn(e *encoder, f *field, elems []reflect.Value, ends []int) []int {
	n := len(elems)
	mark := len(e.b)
	e.b = binary.AppendUvarint(e.b, f.id<<2|uint64(f.plan.wt))
	if n == 1 {
		at := len(e.b)
		encodeElem(e, f.plan, elems[0].Field(f.index))
		if bytes.Equal(e.b[at:], f.plan.zeroEnc) {
			e.b = e.b[:mark]
		}
		return ends
	}
	e.b = append(e.b, colPlain)
	first := len(e.b)
	st := columnStats{zero: true}
	prev := first
	for i, el := range elems {
		at := len(e.b)
		encodeElem(e, f.plan, el.Field(f.index))
		ends = append(ends, len(e.b))
		val := e.b[at:]
		st.zero = st.zero && bytes.Equal(val, f.plan.zeroEnc)
		if i > 0 && bytes.Equal(val, e.b[prev:at]) {
			st.run++
		} else {
			st.endRun()
			st.runsSize += len(val)
			st.run = 1
		}
		if f.plan.wt == wireBytes && (i == 0 || st.prefix+st.suffix > 0) {
			st.addBytes(e.b, at, i)
		}
		prev = at
	}
	if st.zero {
		e.b = e.b[:mark]
		return ends
	}
	st.endRun()
	e.b = packColumn(e.b, first, ends, f.plan.wt, &st)
	return ends
}

func (st *columnStats) endRun() {
	switch {
	case st.run == 0:
		return
	case st.runs == 0:
		st.runsSize += uvarintLen(uint64(colRuns + st.run - 1)) // the mode
	default:
		st.runsSize += uvarintLen(uint64(st.run))
	}
	st.runs++
}

// addBytes notes the bytes value at b[at:], the i-th of its column.
func (st *columnStats) addBytes(b []byte, at, i int) {
	n, ln := binary.Uvarint(b[at:])
	val := b[at+ln:]
	st.size += len(b) - at
	if i == 0 {
		st.firstAt, st.firstLen = at+ln, int(n)
		st.prefix, st.suffix, st.shortest = int(n), int(n), int(n)
		return
	}
	first := b[st.firstAt : st.firstAt+st.firstLen]
	st.shortest = min(st.shortest, len(val))
	st.prefix = min(st.prefix, commonPrefix(first, val))
	st.suffix = min(st.suffix, commonSuffix(first, val))
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func commonSuffix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[len(a)-1-n] == b[len(b)-1-n] {
		n++
	}
	return n
}

func uvarintLen(u uint64) int {
	n := 1
	for ; u >= 0x80; u >>= 7 {
		n++
	}
	return n
}

// packColumn rewrites the plain values at b[first:], which end at ends
// (their mode byte is at first-1), in the mode that takes the fewest bytes.
func packColumn(b []byte, first int, ends []int, wt wireType, st *columnStats) []byte {
	n := len(ends)
	best, mode := 1+len(b)-first, colPlain
	if st.runs < n && st.runsSize < best {
		best, mode = st.runsSize, colRuns
	}
	if wt == wireVarint && 1+8*n < best {
		best, mode = 1+8*n, colFixed
	}
	if wt == wireBytes {
		st.suffix = min(st.suffix, st.shortest-st.prefix)
		if p, s := st.prefix, st.suffix; p+s > 0 {
			// At most: a middle's length takes no more than the value's.
			if size := 1 + uvarintLen(uint64(p)) + p + uvarintLen(uint64(s)) + s + st.size - n*(p+s); size < best {
				best, mode = size, colAffix
			}
		}
	}
	if mode == colPlain {
		return b
	}
	out := len(b)
	switch mode {
	case colRuns:
		count, runAt, runEnd := 0, 0, 0
		for i, end := range ends {
			at := first
			if i > 0 {
				at = ends[i-1]
			}
			if i > 0 && bytes.Equal(b[at:end], b[runAt:runEnd]) {
				count++
				continue
			}
			b = appendRun(b, out, count, runAt, runEnd)
			count, runAt, runEnd = 1, at, end
		}
		b = appendRun(b, out, count, runAt, runEnd)
	case colFixed:
		b = append(b, colFixed)
		for at := first; at < out; {
			u, ln := binary.Uvarint(b[at:])
			b = binary.LittleEndian.AppendUint64(b, u)
			at += ln
		}
	case colAffix:
		p, s := st.prefix, st.suffix
		b = append(binary.AppendUvarint(append(b, colAffix), uint64(p)), b[st.firstAt:st.firstAt+p]...)
		b = append(binary.AppendUvarint(b, uint64(s)), b[st.firstAt+st.firstLen-s:st.firstAt+st.firstLen]...)
		for at := first; at < out; {
			ln, lnLen := binary.Uvarint(b[at:])
			at += lnLen
			b = binary.AppendUvarint(b, ln-uint64(p+s))
			b = append(b, b[at+p:at+int(ln)-s]...)
			at += int(ln)
		}
	}
	k := copy(b[first-1:], b[out:])
	return b[:first-1+k]
}

// appendRun appends a run of count values b[at:end]; the first run of the
// column, the one appended at out, is counted by the mode.
func appendRun(b []byte, out, count, at, end int) []byte {
	switch {
	case count == 0:
		return b
	case len(b) == out:
		b = binary.AppendUvarint(b, uint64(colRuns+count-1))
	default:
		b = binary.AppendUvarint(b, uint64(count))
	}
	return append(b, b[at:end]...)
}
