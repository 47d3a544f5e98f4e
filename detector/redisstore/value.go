package redisstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// decodeInto decodes a value (revision, format, body) into v, with body
// standing in for the value's own when a pending write is undone, and
// returns the revision (0: absent). The revision comes back even when the
// body does not decode, so that the next Save can replace the value: one
// entity's forgotten history is better than a detector stopped by one bad
// value.
func decodeInto[T any](c *codec[T], raw, body []byte, v *T) (int64, error) {
	if raw == nil {
		return 0, nil
	}
	rev, own, err := parseValue(raw)
	if err != nil {
		return rev, err
	}
	if body == nil {
		body = own
	}
	return rev, c.decodeBody(body, v)
}

// The value format: uvarint revision, one format byte, the codec's body.
// The revision comes first so that the Lua check compares a prefix.
//
// What a key costs Redis 7 (jemalloc) besides its value: the key (32 bytes,
// see keyer), a dict entry and an expires entry (32 each), an object header
// (16), and a slot in each of the two hash tables (16 to 32 together): 128
// to 144 bytes. A value of V = 45 to 252 bytes takes V+4 rounded up to a
// size class (64, 80, 96, 112, 128, 160, 192, 224, 256), so shortening
// values pays where it crosses a class boundary. A value of 44 bytes or
// less shares one allocation with the object header: 32 to 64 bytes.
//
// formatV2 stores times relative to a base and lists of structs by column
// (see codec); atod writes it and still reads formatV1, so an upgrade
// keeps what the state held. An atod that knows only formatV1 drops
// formatV2 values as undecodable: do not run both versions on one Redis.
const (
	formatV1 = 1
	formatV2 = 2
)

var errUnknownFormat = errors.New("unknown value format")

func appendHeader(b []byte, rev int64) []byte {
	return append(binary.AppendUvarint(b, uint64(rev)), formatV2)
}

// parseValue splits a value into its revision and its body, which keeps
// the format byte in front (see codec.decodeBody).
func parseValue(raw []byte) (rev int64, body []byte, err error) {
	r := newReader(raw)
	u, err := r.uvarint()
	if err != nil || u > 1<<62 {
		return 0, nil, fmt.Errorf("bad revision: %v", err)
	}
	if body := r.rest(); len(body) > 0 && (body[0] == formatV1 || body[0] == formatV2) {
		return int64(u), body, nil
	}
	return int64(u), nil, errUnknownFormat
}

func revPrefix(rev int64) []byte {
	if rev == 0 {
		return nil
	}
	return binary.AppendUvarint(nil, uint64(rev))
}

// loadedValue is a key's revision and body as loaded (body nil: absent),
// and the value as read, for the cache should the batch only read the key
// (nil: absent, or a pending write was undone and the value is not what
// the batch saw).
type loadedValue struct {
	rev  int64
	body []byte
	raw  []byte
}

// remember notes what each key held, for Save, and undoes the pending
// writes that landed (see pendingWrite). It returns, per key, the body to
// decode instead of the stored one, or nil.
func (s *Store) remember(keys []string, raws [][]byte) [][]byte {
	bodies := make([][]byte, len(keys))
	s.mu.Lock()
	defer s.mu.Unlock()
	// The read set is this Load's: a batch loads once, and a batch that
	// ran on an earlier Load and was dropped (a refused write ahead of
	// it) must not leave its keys to be checked, at revisions never
	// loaded again, by every later Save.
	s.forgetReads()
	for i, k := range keys {
		var lv loadedValue
		if raws[i] != nil {
			lv.rev, lv.body, _ = parseValue(raws[i])
			lv.raw = raws[i]
		}
		if p, ok := s.pending[k]; ok {
			lv.raw = nil
			if raws[i] != nil && bytes.Equal(raws[i], p.wrote) {
				lv.body = p.before
				if lv.body == nil {
					lv.body = []byte{} // absent before: an empty state
				}
				bodies[i] = lv.body
			} else {
				delete(s.pending, k) // it did not land, or was overwritten
			}
			// One that landed stays pending until a Save of the key
			// succeeds: a Load in between may be dropped (in replay the
			// batch run ahead while the failed write travelled is), and
			// the rerun's Load must undo the write again.
		}
		s.reads = append(s.reads, k)
		s.loaded = append(s.loaded, lv)
	}
	return bodies
}
