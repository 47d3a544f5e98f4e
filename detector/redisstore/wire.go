package redisstore

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The wire format is a tagged, self-delimiting encoding in the spirit of
// protocol buffers: each struct field is a key (field id and wire type)
// followed by its value, so a reader can skip fields it does not know. That
// is what lets an older atod read state written by a newer one, and a newer
// one read state written before a field existed.
type wireType uint8

const (
	wireVarint  wireType = 0 // one uvarint: bools, integers
	wirePair    wireType = 1 // a uvarint h, then a second uvarint when h&3 == 3 (formatV1: h odd): times, floats
	wireBytes   wireType = 2 // a uvarint length, then that many bytes
	wireInvalid wireType = 3 // reserved
)

var errTruncated = errors.New("truncated value")

// reader consumes an encoded value: b[off:end] is what is left. Moving
// offsets rather than reslicing b keeps pointer writes (and the garbage
// collector's write barriers) out of the decoding loop.
type reader struct {
	b        []byte
	off, end int
	v1       bool  // the body is in formatV1
	base     int64 // Unix seconds that times are relative to (not in formatV1)
}

func newReader(b []byte) *reader { return &reader{b: b, end: len(b)} }

func (r *reader) more() bool     { return r.off < r.end }
func (r *reader) rest() []byte   { return r.b[r.off:r.end:r.end] }
func (r *reader) consumeAll()    { r.off = r.end }
func (r *reader) remaining() int { return r.end - r.off }

func (r *reader) uvarint() (uint64, error) {
	v, n := binary.Uvarint(r.b[r.off:r.end])
	if n <= 0 {
		if n == 0 {
			return 0, errTruncated
		}
		return 0, errors.New("varint overflows 64 bits")
	}
	r.off += n
	return v, nil
}

// length reads a length prefix and checks that that many bytes follow.
func (r *reader) length() (int, error) {
	n, err := r.uvarint()
	if err != nil {
		return 0, err
	}
	if n > uint64(r.remaining()) {
		return 0, errTruncated
	}
	return int(n), nil
}

// pair reads a wirePair value: h, and the second uvarint if h says so.
func (r *reader) pair() (h, second uint64, err error) {
	if h, err = r.uvarint(); err != nil || (r.v1 && h&1 == 0) || (!r.v1 && h&3 != 3) {
		return h, 0, err
	}
	second, err = r.uvarint()
	return h, second, err
}

// skip consumes one value of wire type wt, for fields this version does not
// know.
func (r *reader) skip(wt wireType) error {
	var err error
	switch wt {
	case wireVarint:
		_, err = r.uvarint()
	case wirePair:
		_, _, err = r.pair()
	case wireBytes:
		var n int
		if n, err = r.length(); err == nil {
			r.off += n
		}
	default:
		err = fmt.Errorf("unknown wire type %d", wt)
	}
	return err
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// beginDelimited reserves one byte for the length of the value that
// follows (most values are short); finishDelimited writes the length and
// moves the value when its length needs more bytes.
func beginDelimited(b []byte) ([]byte, int) { return append(b, 0), len(b) }

func finishDelimited(b []byte, start int) []byte {
	n := len(b) - start - 1
	if n < 0x80 {
		b[start] = byte(n)
		return b
	}
	var lenBuf [binary.MaxVarintLen64]byte
	ln := binary.PutUvarint(lenBuf[:], uint64(n))
	b = append(b, lenBuf[:ln-1]...)
	copy(b[start+ln:], b[start+1:start+1+n])
	copy(b[start:], lenBuf[:ln])
	return b
}

// bytes reads a length-prefixed value.
func (r *reader) bytes() ([]byte, error) {
	n, err := r.length()
	if err != nil {
		return nil, err
	}
	r.off += n
	return r.b[r.off-n : r.off : r.off], nil
}
