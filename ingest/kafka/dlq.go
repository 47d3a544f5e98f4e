package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

	// HeaderValueDropped is on a dead letter whose value the dead-letter
	// topic refused as too large: the value is left out, this header
	// gives its size, and the record itself is still on the input topic
	// at HeaderPartition and HeaderOffset (for that topic's retention).
	HeaderValueDropped = "atod-dlq-value-dropped"
)

// dlqBatchBytes is the writer's limit on a request. kafka-go refuses a
// message over its limit (1 MiB by default) before asking the broker, and
// a dead letter is a record as large as the input topic took plus atod's
// headers: the broker's own limit is the one that counts.
const dlqBatchBytes = 64 << 20

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
		BatchBytes:   dlqBatchBytes,
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
			err := s.writeDeadLetters(ctx, msgs)
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

// writeDeadLetters writes msgs. When the dead-letter topic refuses one as
// too large, which no retry changes, they are written one at a time and
// such a one without its value (see HeaderValueDropped): retrying it for
// ever would hold every partition of the session, and the next owner's.
func (s *session) writeDeadLetters(ctx context.Context, msgs []kafka.Message) error {
	err := s.c.dlq.WriteMessages(ctx, msgs...)
	if !tooLarge(err) {
		return err
	}
	for _, m := range msgs {
		err := s.c.dlq.WriteMessages(ctx, m)
		if tooLarge(err) {
			s.log.Error("a dead letter is too large for the dead-letter topic: written without its value",
				zap.String("topic", s.c.cfg.Topic), zap.String("partition", header(m, HeaderPartition)),
				zap.String("offset", header(m, HeaderOffset)), zap.Int("bytes", len(m.Value)))
			m.Headers = append(slices.Clip(m.Headers), kafka.Header{Key: HeaderValueDropped, Value: []byte(strconv.Itoa(len(m.Value)))})
			m.Value = nil
			err = s.c.dlq.WriteMessages(ctx, m)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// tooLarge reports a write refused for a message's size, by kafka-go's
// Writer or by the broker (per message, in WriteErrors).
func tooLarge(err error) bool {
	if errors.Is(err, kafka.MessageSizeTooLarge) {
		return true
	}
	var werr kafka.WriteErrors
	if errors.As(err, &werr) {
		for _, e := range werr {
			if errors.Is(e, kafka.MessageSizeTooLarge) {
				return true
			}
		}
	}
	return false
}

func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
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
