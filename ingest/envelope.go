package ingest

import "strconv"

// MaxEnvelopeRecords bounds the records of one envelope. Real batches hold
// far fewer (a Microsoft Graph page at most 999, an Okta page 1,000); the
// bound keeps a hostile line of a million empty objects from costing a
// million allocations.
const MaxEnvelopeRecords = 10_000

// Envelope splits a batch of records into its records: the elements of a
// top-level JSON array, or of the array that one of keys names in a
// top-level object ({"records":[...]} from Azure Event Hubs, {"value":[...]}
// from Microsoft Graph, {"items":[...]} from the Google Reports API). A key
// naming an object yields that object as the only record (the "detail" of
// an AWS EventBridge event). Keys match exactly: pass every spelling a
// source uses ("records", "Records").
//
// ok is false for a record that is not an envelope; parts are sub-slices of
// rec. An error means rec is not valid JSON or holds more than
// MaxEnvelopeRecords records.
func Envelope(rec []byte, keys ...string) (parts [][]byte, ok bool, err error) {
	d := decoder{data: rec, plain: !hasEscapeOrControl(rec)}
	d.skipSpace()
	if d.pos >= len(rec) {
		return nil, false, nil
	}
	switch rec[d.pos] {
	case '[':
		d.pos++
		if parts, err = d.elements(parts); err == nil {
			err = d.end()
		}
		if err != nil {
			return nil, false, err
		}
		return parts, true, nil
	case '{':
	default:
		return nil, false, nil
	}
	if !hasAnyKey(rec, keys) {
		return nil, false, nil
	}
	d.pos++
	err = d.object(1, func(key []byte) error {
		if ok || !matchesAny(key, keys) || (d.data[d.pos] != '[' && d.data[d.pos] != '{') {
			return d.skipValue(1)
		}
		ok = true
		if d.data[d.pos] == '{' {
			start := d.pos
			err := d.skipValue(1)
			parts = append(parts, rec[start:d.pos])
			return err
		}
		d.pos++
		parts, err = d.elements(parts)
		return err
	})
	if err == nil {
		err = d.end()
	}
	if err != nil || !ok {
		return nil, false, err
	}
	return parts, true, nil
}

// elements collects the elements of an array whose '[' was consumed.
func (d *decoder) elements(parts [][]byte) ([][]byte, error) {
	err := d.array(2, func() error {
		if len(parts) == MaxEnvelopeRecords {
			return &ParseError{Reason: "envelope holds more than " + strconv.Itoa(MaxEnvelopeRecords) + " records"}
		}
		start := d.pos
		err := d.skipValue(2)
		parts = append(parts, d.data[start:d.pos])
		return err
	})
	return parts, err
}

// end checks that nothing but white space follows the top-level value.
func (d *decoder) end() error {
	d.skipSpace()
	if d.pos != len(d.data) {
		return syntaxError(d.pos, "unexpected "+quoteByte(d.data[d.pos])+" after the JSON value")
	}
	return nil
}

func matchesAny(key []byte, keys []string) bool {
	for _, k := range keys {
		if string(key) == k {
			return true
		}
	}
	return false
}

// hasAnyKey is a cheap pre-check, so that a record that is no envelope is
// not scanned twice.
func hasAnyKey(rec []byte, keys []string) bool {
	for _, k := range keys {
		if HasKey(rec, k) {
			return true
		}
	}
	return false
}
