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
	// msg is the record as read, kept for the dead-letter topic only:
	// set when reason or parts is.
	msg *kafka.Message
}

// maxChunk bounds the records a fetcher hands the session at once; one
// fetch of kafka.max_bytes may hold tens of thousands.
const maxChunk = 1024

// fetcher reads one partition from start, decodes each record and sends
// the records to the session in chunks, in offset order.
//
// It sends a fetch request at a time with kafka-go's Client rather than
// running a kafka-go Reader: a Reader reads a response from its socket
// record by record, setting a deadline for each, and hands each record
// over a channel of its own, which cost about a microsecond an event, an
// eighth of the process's CPU when catching up (BENCHMARKS.md, session
// 10). A
// response here is read whole and its records go to the session a chunk
// at a time. TLS, SASL and the brokers' addresses come from the Client's
// Transport (Conn).
type fetcher struct {
	client    *kafka.Client
	cfg       *Config
	partition int32
	start     int64 // an offset, or kafka.FirstOffset or kafka.LastOffset
	dec       *decoders
	log       *zap.Logger

	value []byte // the record being decoded, reused
	spans []span // the chunk's records' events, by index into its events
	last  int    // records in the last chunk sent
}

type span struct{ from, to int }

// run returns when ctx is cancelled. Everything else (a broker out of
// reach, a leader moving, an offset the broker no longer holds) is logged
// once and retried, with backoff.
func (f *fetcher) run(ctx context.Context, out chan<- []record) {
	offset := f.start
	if offset < 0 {
		var err error
		if offset, err = f.resolve(ctx, offset); err != nil {
			return // ctx ended
		}
	}
	req := kafka.FetchRequest{Topic: f.cfg.Topic, Partition: int(f.partition),
		MinBytes: int64(f.cfg.MinBytes), MaxBytes: int64(f.cfg.MaxBytes), MaxWait: f.cfg.MaxWait}
	doing := fmt.Sprintf("fetching partition %d", f.partition)
	stalled := 0 // fetches in a row that moved no further
	for {
		var res *kafka.FetchResponse
		err := retry(ctx, f.log, doing, func() error {
			req.Offset = offset
			var err error
			res, err = f.client.Fetch(ctx, &req)
			if err == nil && res.Error != nil {
				err = res.Error
			}
			if errors.Is(err, kafka.OffsetOutOfRange) {
				offset = f.outOfRange(ctx, offset)
			}
			return err
		})
		if err != nil {
			return // ctx ended
		}
		// A response cut short (err) keeps what was sent; the rest is
		// fetched again.
		next, err := f.deliver(ctx, res, offset, out)
		if ctx.Err() != nil {
			return
		}
		if next > offset || res.HighWatermark <= offset && err == nil {
			if stalled > 0 {
				f.log.Info("partition moves again", zap.Int64("offset", next), zap.Int("fetches", stalled))
			}
			offset, stalled = next, 0
			continue
		}
		// Nothing read past offset though the partition holds more: an
		// unreadable record, or a batch compaction emptied. Asked again
		// at once, for ever, such a partition would burn a core and say
		// nothing; it is retried with backoff, and said once.
		if stalled == 0 {
			f.log.Warn("partition makes no progress; retrying", zap.Int64("offset", offset),
				zap.Int64("high_water", res.HighWatermark), zap.Error(err))
		}
		stalled++
		if !pause(ctx, backoff(stalled)) {
			return
		}
	}
}

// backoff is the wait after the n-th failure in a row (from 0): 50 ms,
// doubling, at most 5 s.
func backoff(n int) time.Duration {
	return min(50*time.Millisecond<<min(n, 7), 5*time.Second)
}

// pause waits d and reports whether ctx is still live.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// resolve turns kafka.FirstOffset or kafka.LastOffset (a new group's
// kafka.start_offset) into the partition's offset now.
func (f *fetcher) resolve(ctx context.Context, which int64) (int64, error) {
	var offset int64
	err := retry(ctx, f.log, fmt.Sprintf("finding partition %d's start", f.partition), func() error {
		first, last, err := f.bounds(ctx)
		offset = last
		if which == kafka.FirstOffset {
			offset = first
		}
		return err
	})
	return offset, err
}

// bounds returns the partition's first offset and its end.
func (f *fetcher) bounds(ctx context.Context) (first, last int64, err error) {
	res, err := f.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{
		f.cfg.Topic: {kafka.FirstOffsetOf(int(f.partition)), kafka.LastOffsetOf(int(f.partition))}}})
	if err != nil {
		return 0, 0, err
	}
	for _, p := range res.Topics[f.cfg.Topic] {
		if p.Partition == int(f.partition) {
			return p.FirstOffset, p.LastOffset, p.Error
		}
	}
	return 0, 0, fmt.Errorf("listing offsets: no answer for partition %d", f.partition)
}

// outOfRange answers a fetch refused for offset: before the partition's
// first record, its records were deleted (by retention, mostly) before
// atod read them, and reading goes on from the first; beyond its end, the
// partition is retried where it is, as kafka-go's Reader does.
func (f *fetcher) outOfRange(ctx context.Context, offset int64) int64 {
	first, _, err := f.bounds(ctx)
	if err != nil || offset >= first {
		return offset
	}
	f.log.Warn("records deleted before they were read; reading on from the partition's first",
		zap.Int64("offset", offset), zap.Int64("first", first), zap.Int64("lost", first-offset))
	return first
}
