package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"

	"github.com/atod-project/atod/ingest"
)

// deliver decodes the records of res from offset on, sends them to out a
// chunk at a time and returns the offset to fetch next.
func (f *fetcher) deliver(ctx context.Context, res *kafka.FetchResponse, offset int64, out chan<- []record) (int64, error) {
	fetched := time.Now()
	var chunk []record
	var events []ingest.Event
	send := func() bool {
		for i, s := range f.spans {
			if s.to > s.from {
				chunk[i].events = events[s.from:s.to:s.to]
			}
		}
		select {
		case out <- chunk:
		case <-ctx.Done():
			return false
		}
		f.last = len(chunk)
		chunk, events, f.spans = nil, nil, f.spans[:0]
		return true
	}
	for {
		r, err := res.Records.ReadRecord()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			if len(chunk) > 0 && !send() {
				return offset, ctx.Err()
			}
			return skipControl(res.Records, offset), err
		}
		if r.Offset < offset { // a batch may begin before the offset asked for
			closeRecord(r)
			continue
		}
		if chunk == nil {
			// Sized as the last chunk was: a partition catching up fills
			// whole chunks, and growing them by append cost a fifth of
			// the decoding.
			chunk, events = make([]record, 0, f.last), make([]ingest.Event, 0, f.last)
		}
		var rec record
		rec, events, err = f.decode(r, events, fetched)
		closeRecord(r)
		if err != nil {
			// The records before it go on; it is fetched again.
			if len(chunk) > 0 && !send() {
				return offset, ctx.Err()
			}
			return offset, err
		}
		rec.highWater, rec.fetched = res.HighWatermark, fetched
		chunk = append(chunk, rec)
		offset = r.Offset + 1
		if len(chunk) == maxChunk && !send() {
			return offset, ctx.Err()
		}
	}
}

// decode reads r and decodes its value, appending its events to events;
// its span in f.spans says which are its.
func (f *fetcher) decode(r *kafka.Record, events []ingest.Event, now time.Time) (record, []ingest.Event, error) {
	rec := record{partition: f.partition, offset: r.Offset, time: r.Time}
	value, err := readBytes(r.Value, f.value[:0])
	if err != nil {
		return rec, events, err
	}
	f.value = value
	from := len(events)
	var skip bool
	var parts ingest.PartErrors
	events, parts, skip, err = f.dec.decode(value, events)
	if ferr := f.inFuture(events[from:], now); err == nil && ferr != nil {
		err, parts = ferr, nil // the whole record, once
		clear(events[from:])
		events = events[:from]
	}
	switch {
	case err != nil:
		rec.reason = err.Error()
	case len(parts) > 0 && len(events) == from:
		// Every record of the envelope is unusable: dead-letter them;
		// nothing to detect on.
		rec.parts = parts
	case skip || len(events) == from:
		rec.handled = true
	default:
		rec.parts = parts
		for i := range events[from:] {
			events[from+i].Pos = ingest.Position{Partition: f.partition, Offset: r.Offset}
		}
	}
	if rec.reason != "" || len(rec.parts) > 0 {
		if rec.msg, err = message(r, value); err != nil {
			return rec, events, err
		}
	}
	f.spans = append(f.spans, span{from, len(events)})
	return rec, events, nil
}

// message copies what the dead-letter topic keeps of r: its key, value,
// headers and time.
func message(r *kafka.Record, value []byte) (*kafka.Message, error) {
	key, err := readBytes(r.Key, nil)
	if err != nil {
		return nil, err
	}
	m := &kafka.Message{Key: key, Value: append([]byte(nil), value...), Time: r.Time,
		Headers: make([]kafka.Header, len(r.Headers))}
	for i, h := range r.Headers {
		m.Headers[i] = kafka.Header{Key: h.Key, Value: append([]byte(nil), h.Value...)}
	}
	return m, nil
}

// readBytes appends what b holds to buf; a nil b (a null key or value)
// leaves buf as it is.
func readBytes(b protocol.Bytes, buf []byte) ([]byte, error) {
	if b == nil {
		return buf, nil
	}
	n := len(buf)
	buf = append(buf, make([]byte, b.Len())...)
	if _, err := io.ReadFull(b, buf[n:]); err != nil {
		return buf[:n], fmt.Errorf("reading a record: %w", err)
	}
	return buf, nil
}

// closeRecord hands r's buffers back to kafka-go's pool.
func closeRecord(r *kafka.Record) {
	if r.Key != nil {
		r.Key.Close()
	}
	if r.Value != nil {
		r.Value.Close()
	}
}

// skipControl returns the offset after the control records (transaction
// markers) that end a response: ReadRecord passes over them, and a
// partition whose last records they are would otherwise be fetched from
// the same offset for ever.
func skipControl(rs kafka.RecordReader, offset int64) int64 {
	stream, ok := rs.(*protocol.RecordStream)
	if !ok {
		return offset
	}
	for _, b := range stream.Records {
		cb, ok := b.(*protocol.ControlBatch)
		if !ok {
			continue
		}
		for {
			r, err := cb.ReadRecord()
			if err != nil {
				break
			}
			offset = max(offset, r.Offset+1)
			closeRecord(r)
		}
	}
	return offset
}

// inFuture refuses a record with an event more than kafka.max_future
// ahead of the clock. An envelope goes to the dead-letter topic whole:
// its events carry no bytes of their own to dead-letter apart, and a
// clock that far off is the source's, not one event's. now is when the
// record was fetched.
func (f *fetcher) inFuture(events []ingest.Event, now time.Time) error {
	for i := range events {
		if err := ingest.TooFarAhead(events[i].Time, now, f.cfg.MaxFuture); err != nil {
			return fmt.Errorf("kafka.max_future: %w", err)
		}
	}
	return nil
}
