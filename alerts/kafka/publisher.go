// Package kafka publishes atod's alerts to a Kafka topic, one JSON object
// per record in the alert schema of DESIGN.md, keyed by account (by
// address for an alert about an address only), so that a consumer of the
// topic sees each account's alerts in order.
//
// Publishing is at least once: a crash between a write and the
// bookkeeping after it writes the alert again when atod resumes. Recent
// reads back what the topic already holds, so that the caller can drop
// those copies (alerts.Delivered).
package kafka

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/detector"
)

// Headers of each alert record, so that tools need not parse the value to
// route or deduplicate.
const (
	HeaderID     = "atod-alert-id"
	HeaderRule   = "atod-rule"
	HeaderAction = "atod-action"
)

// Options say how to reach the brokers; the consumer's connection
// settings (TLS, SASL) serve here as well.
type Options struct {
	Brokers   []string
	Transport *kafka.Transport // nil: kafka-go's default, plain TCP
	Log       *zap.Logger
	// MaxBackoff bounds the wait between attempts while the brokers do
	// not take the alerts; 0 means 5s.
	MaxBackoff time.Duration
}

// Publisher writes alerts to one topic. It is safe for concurrent use.
type Publisher struct {
	topic      string
	w          *kafka.Writer
	client     *kafka.Client
	log        *zap.Logger
	maxBackoff time.Duration
}

var _ alerts.Notifier = (*Publisher)(nil)

// New returns a publisher to topic. It does not connect.
func New(topic string, opts Options) *Publisher {
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	addr := kafka.TCP(opts.Brokers...)
	var rt kafka.RoundTripper
	if opts.Transport != nil {
		rt = opts.Transport
	}
	return &Publisher{
		topic: topic,
		w: &kafka.Writer{
			Addr:      addr,
			Topic:     topic,
			Transport: rt,
			// The Java client's partitioner: keyed producers in other
			// languages put an account's alerts where atod does.
			Balancer:     &kafka.Murmur2Balancer{},
			RequiredAcks: kafka.RequireAll,
			// kafka-go holds a batch that is not full this long; alerts
			// come a few at a time and should not wait.
			BatchTimeout: time.Millisecond,
			BatchSize:    1000,
			MaxAttempts:  3,
		},
		client:     &kafka.Client{Addr: addr, Transport: rt, Timeout: 10 * time.Second},
		log:        opts.Log.Named("alerts-kafka").With(zap.String("topic", topic)),
		maxBackoff: opts.MaxBackoff,
	}
}

// Publish writes alerts and returns once the brokers acknowledged all of
// them (acks from every in-sync replica). While the brokers do not take
// them it retries, with backoff, until ctx ends, and then returns the last
// error: an alert is never given up on while atod runs.
func (p *Publisher) Publish(ctx context.Context, as []detector.Alert) error {
	if len(as) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, len(as))
	for i := range as {
		m, err := message(&as[i])
		if err != nil {
			return err
		}
		msgs[i] = m
	}
	wait := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		// A write is never cut short by ctx: kafka-go would return at once
		// but still deliver the batch later, after this instance may have
		// handed its partitions over, and the new owner, reading back what
		// was published, would publish the same alerts again. The writer's
		// own WriteTimeout bounds the wait instead.
		err := p.w.WriteMessages(context.WithoutCancel(ctx), msgs...)
		if err == nil {
			if attempt > 0 {
				p.log.Info("publishing alerts works again", zap.Int("attempts", attempt+1))
			}
			return nil
		}
		if attempt == 0 {
			p.log.Warn("publishing alerts failed; retrying", zap.Error(err))
		}
		// When some partitions took their batches and others did not,
		// only the refused messages go again: sending the rest again
		// would publish those alerts twice.
		var werr kafka.WriteErrors
		if errors.As(err, &werr) && len(werr) == len(msgs) {
			failed := msgs[:0:0]
			for i, e := range werr {
				if e != nil {
					failed = append(failed, msgs[i])
				}
			}
			msgs = failed
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("publishing %d alerts to %s: %w", len(msgs), p.topic, err)
		case <-t.C:
		}
		wait = min(wait*2, p.maxBackoff)
	}
}

// Notify implements alerts.Notifier, for use behind the alerts stages.
// The retrying is Publish's own, so a failure is not worth retrying again.
func (p *Publisher) Notify(ctx context.Context, a detector.Alert) (bool, error) {
	return false, p.Publish(ctx, []detector.Alert{a})
}

// Close flushes and closes the connections.
func (p *Publisher) Close() error { return p.w.Close() }

// Key returns the record key of an alert: its account, or its address for
// an alert about an address only.
func Key(a *detector.Alert) string {
	if a.User != "" {
		return a.User
	}
	return a.IP
}

// message encodes a as JSONLines does (no HTML escaping), without the
// line end.
func message(a *detector.Alert) (kafka.Message, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a); err != nil {
		return kafka.Message{}, fmt.Errorf("encoding alert %s: %w", a.ID, err)
	}
	return kafka.Message{
		Key:   []byte(Key(a)),
		Value: bytes.TrimSuffix(buf.Bytes(), []byte("\n")),
		Headers: []kafka.Header{
			{Key: HeaderID, Value: []byte(a.ID)},
			{Key: HeaderRule, Value: []byte(a.Rule)},
			{Key: HeaderAction, Value: []byte(a.Action)},
		},
	}, nil
}
