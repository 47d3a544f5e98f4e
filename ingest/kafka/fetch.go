package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/atod-project/atod/ingest"
)

// record is one Kafka record on its way from a fetcher to the session:
// decoded, or refused with the reason, or handled as carrying no event.
type record struct {
	partition int32
	offset    int64
	highWater int64     // the partition's end when the record was fetched
	time      time.Time // the record's timestamp (set by its producer)
	fetched   time.Time
	events    []ingest.Event
	// handled marks a record that carries no authentication event:
	// nothing to do but count it.
	handled bool
	reason  string // non-empty: dead-letter msg for this reason
	// parts are the unusable records of an envelope whose other records
	// are in events: each is dead-lettered on its own, with msg's key and
	// headers.
	parts ingest.PartErrors
	msg   kafka.Message
}

// fetcher reads one partition from start, decodes each record and sends
// it to out, in offset order.
type fetcher struct {
	conn      *Conn
	cfg       *Config
	partition int32
	start     int64
	dec       *decoders
	log       *zap.Logger
}

// run returns nil when ctx is cancelled, and an error when the partition
// cannot be read at all (kafka-go retries the rest itself).
func (f *fetcher) run(ctx context.Context, out chan<- record) error {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:        f.conn.Brokers,
		Topic:          f.cfg.Topic,
		Partition:      int(f.partition),
		Dialer:         f.conn.Dialer,
		MinBytes:       f.cfg.MinBytes,
		MaxBytes:       f.cfg.MaxBytes,
		MaxWait:        f.cfg.MaxWait,
		QueueCapacity:  1024,
		MaxAttempts:    1 << 30, // a broker outage is waited out, not fatal
		ErrorLogger:    kafka.LoggerFunc(f.logError),
		ReadBackoffMin: 50 * time.Millisecond,
		ReadBackoffMax: 2 * time.Second,
	})
	// Close waits for the fetch in flight, which on a quiet partition
	// lasts up to max_wait: a stop or a rebalance does not wait for it.
	// What that fetch brings is dropped with the reader.
	defer func() { go r.Close() }()
	if err := r.SetOffset(f.start); err != nil {
		return fmt.Errorf("partition %d: setting offset %d: %w", f.partition, f.start, err)
	}
	var events []ingest.Event
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return nil
			}
			return fmt.Errorf("partition %d: fetching: %w", f.partition, err)
		}
		rec := record{partition: f.partition, offset: m.Offset, highWater: m.HighWaterMark, time: m.Time, fetched: time.Now()}
		var skip bool
		var parts ingest.PartErrors
		events, parts, skip, err = f.dec.decode(m.Value, events[:0])
		if ferr := f.inFuture(events); err == nil && ferr != nil {
			err, parts = ferr, nil // the whole record, once
		}
		if len(parts) > 0 {
			rec.parts, rec.msg = parts, m
		}
		switch {
		case err != nil:
			rec.reason, rec.msg = err.Error(), m
		case len(parts) > 0 && len(events) == 0:
			// Every record of the envelope is unusable: dead-letter
			// them; nothing to detect on.
		case skip || len(events) == 0:
			rec.handled = true
		default:
			rec.events = make([]ingest.Event, len(events))
			for i := range events {
				events[i].Pos = ingest.Position{Partition: f.partition, Offset: m.Offset}
			}
			copy(rec.events, events)
		}
		select {
		case out <- rec:
		case <-ctx.Done():
			return nil
		}
	}
}

// inFuture refuses a record with an event more than kafka.max_future
// ahead of the clock. An envelope goes to the dead-letter topic whole:
// its events carry no bytes of their own to dead-letter apart, and a
// clock that far off is the source's, not one event's.
func (f *fetcher) inFuture(events []ingest.Event) error {
	now := time.Now()
	for i := range events {
		if err := ingest.TooFarAhead(events[i].Time, now, f.cfg.MaxFuture); err != nil {
			return fmt.Errorf("kafka.max_future: %w", err)
		}
	}
	return nil
}

// logError turns kafka-go's error lines into debug lines: it logs every
// retry of a broker it cannot reach, and the session logs the outage once.
func (f *fetcher) logError(msg string, args ...any) {
	f.log.Debug("kafka reader", zap.String("msg", fmt.Sprintf(msg, args...)))
}
