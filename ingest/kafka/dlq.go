package kafka

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/atod-project/atod/ingest"
)

// Headers atod adds to a dead letter; the record's own headers, key and
// value are kept as they were.
const (
	HeaderReason    = "atod-dlq-reason"
	HeaderTopic     = "atod-dlq-topic"
	HeaderPartition = "atod-dlq-partition"
	HeaderOffset    = "atod-dlq-offset"
	// HeaderPart is on the dead letter of one unusable record of an
	// envelope (an Event Hubs {"records":[...]} message) whose other
	// records were detected on: "3/100", the record's place among the
	// envelope's unusable ones. Its value is that record's own JSON.
	HeaderPart = "atod-dlq-part"
)

func newDLQWriter(conn *Conn, topic string) *kafka.Writer {
	return &kafka.Writer{
		Addr:         kafka.TCP(conn.Brokers...),
		Topic:        topic,
		Transport:    conn.Transport,
		Balancer:     &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll,
		// A partial batch waits this long for company; dead letters are
		// rare, so waiting would only delay the commit.
		BatchTimeout: time.Millisecond,
		MaxAttempts:  3,
	}
}

// deadLetter writes recs to the dead-letter topic, or logs them when there
// is none, and reports them done. A broker that refuses is retried until
// ctx ends: an offset past a dead letter that was not written must not be
// committed.
func (s *session) deadLetter(ctx context.Context, recs []*record) error {
	// A record is one dead letter, or, for an envelope some of whose
	// records were usable, one per unusable record with its own bytes,
	// so that replaying the dead-letter topic repeats no event.
	type letter struct {
		r      *record
		value  []byte
		reason string
		part   string // "i/n" for a part of an envelope
	}
	var letters []letter
	for _, r := range recs {
		if r.reason != "" {
			letters = append(letters, letter{r: r, value: r.msg.Value, reason: r.reason})
			continue
		}
		for i, p := range r.parts {
			letters = append(letters, letter{r: r, value: p.Raw, reason: p.Err.Error(),
				part: strconv.Itoa(i+1) + "/" + strconv.Itoa(len(r.parts))})
		}
	}
	if s.c.dlq == nil {
		sink := ingest.DeadLetterLogger(s.log)
		for _, l := range letters {
			reason := l.reason
			if l.part != "" {
				reason = "unusable record " + l.part + " of the envelope: " + reason
			}
			_ = sink.DeadLetter(ctx, ingest.DeadLetter{Source: fmt.Sprintf("%s/%d", s.c.cfg.Topic, l.r.partition),
				Line: l.r.offset, Reason: reason, Raw: l.value})
		}
	} else {
		msgs := make([]kafka.Message, len(letters))
		for i, l := range letters {
			r := l.r
			h := make([]kafka.Header, 0, len(r.msg.Headers)+5)
			h = append(h, r.msg.Headers...)
			h = append(h,
				kafka.Header{Key: HeaderReason, Value: []byte(l.reason)},
				kafka.Header{Key: HeaderTopic, Value: []byte(s.c.cfg.Topic)},
				kafka.Header{Key: HeaderPartition, Value: []byte(strconv.Itoa(int(r.partition)))},
				kafka.Header{Key: HeaderOffset, Value: []byte(strconv.FormatInt(r.offset, 10))})
			if l.part != "" {
				h = append(h, kafka.Header{Key: HeaderPart, Value: []byte(l.part)})
			}
			msgs[i] = kafka.Message{Key: r.msg.Key, Value: l.value, Headers: h, Time: r.msg.Time}
		}
		if err := retry(ctx, s.log, "writing dead letters", func() error {
			err := s.c.dlq.WriteMessages(ctx, msgs...)
			if err != nil {
				s.c.update(func(st *Stats) { st.DLQErrors++ })
			}
			return err
		}); err != nil {
			return err
		}
	}
	for _, r := range recs {
		s.ack([]ingest.Position{{Partition: r.partition, Offset: r.offset}})
	}
	return nil
}

// retry calls f until it succeeds or ctx ends, waiting backoff(n) after
// its n-th failure in a row, and logs the first failure and the
// recovery, not every attempt.
func retry(ctx context.Context, log *zap.Logger, doing string, f func() error) error {
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil {
			if attempt > 0 {
				log.Info(doing+": succeeded again", zap.Int("attempts", attempt+1))
			}
			return nil
		}
		if attempt == 0 && ctx.Err() == nil { // not for a stop or a rebalance
			log.Warn(doing+" failed; retrying", zap.Error(err))
		}
		if !pause(ctx, backoff(attempt)) {
			return fmt.Errorf("%s: %w", doing, err)
		}
	}
}
