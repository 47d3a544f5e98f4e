package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/atod-project/atod/alerts/internal/box"
	"github.com/atod-project/atod/detector"
)

// Outbox holds the alerts of a detector batch from the moment they are
// decided until they are delivered. The detector records an alert's
// incident in its saved state, so events handled again after a crash raise
// the alert no more: an alert decided but not yet delivered when atod
// stopped would be lost. Staged in an outbox before the state is saved,
// it is delivered by whoever resumes (see detector.Pipeline.BeforeSave).
//
// Each key (in atod run, one per Kafka partition) holds the alerts of at
// most one batch: one writer per key, one batch at a time. Methods block
// until done or ctx ends, then return ctx's error.
type Outbox interface {
	// Stage records alerts under key durably, replacing what key held.
	Stage(ctx context.Context, key string, as []detector.Alert) error
	// Pending returns what key holds.
	Pending(ctx context.Context, key string) ([]detector.Alert, error)
	// Clear empties key, once its alerts are delivered.
	Clear(ctx context.Context, key string) error
}

var (
	_ Outbox = (*MemoryOutbox)(nil)
	_ Outbox = (*RedisOutbox)(nil)
)

// MemoryOutbox keeps staged alerts in process memory: with in-memory
// detector state, which a restart loses as well, there is nothing to
// resume and memory is enough.
type MemoryOutbox struct {
	mu   sync.Mutex
	keys map[string][]detector.Alert
}

// NewMemoryOutbox returns an empty outbox.
func NewMemoryOutbox() *MemoryOutbox { return &MemoryOutbox{keys: map[string][]detector.Alert{}} }

// Stage implements Outbox.
func (m *MemoryOutbox) Stage(_ context.Context, key string, as []detector.Alert) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[key] = append([]detector.Alert(nil), as...)
	return nil
}

// Pending implements Outbox.
func (m *MemoryOutbox) Pending(_ context.Context, key string) ([]detector.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]detector.Alert(nil), m.keys[key]...), nil
}

// Clear implements Outbox.
func (m *MemoryOutbox) Clear(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, key)
	return nil
}

// RedisOutbox keeps staged alerts in Redis, beside the detector state, so
// that the instance that takes over a partition delivers what the last one
// staged. One string key per outbox key, holding a JSON array; it expires
// after TTL in case the partition never comes back (the topic was
// recreated with fewer partitions).
type RedisOutbox struct {
	client redis.UniversalClient
	prefix string
	ttl    time.Duration
	box    *box.Box // see SealWith; nil: in clear
}

// NewRedisOutbox returns an outbox whose Redis keys start with prefix; the
// key's hash tag keeps each outbox key on one Cluster node. ttl 0 means a
// week.
func NewRedisOutbox(client redis.UniversalClient, prefix string, ttl time.Duration) *RedisOutbox {
	if ttl <= 0 {
		ttl = 7 * 24 * time.Hour
	}
	return &RedisOutbox{client: client, prefix: prefix, ttl: ttl}
}

// SealWith has the outbox keep its alerts sealed, with keys derived from
// secret (the state store's RecordKey): staged alerts name accounts and
// their addresses, and stay while the brokers are away. Alerts staged in
// clear before are still read. nil keeps them in clear.
func (r *RedisOutbox) SealWith(secret []byte) { r.box = box.New(secret, "outbox") }

func (r *RedisOutbox) key(k string) string { return r.prefix + "outbox:{" + k + "}" }

// Stage implements Outbox.
func (r *RedisOutbox) Stage(ctx context.Context, key string, as []detector.Alert) error {
	if len(as) == 0 {
		return r.Clear(ctx, key)
	}
	raw, err := json.Marshal(as)
	if err != nil {
		return fmt.Errorf("encoding %d alerts for the outbox: %w", len(as), err)
	}
	k := r.key(key)
	if err := r.client.Set(ctx, k, r.box.Seal(raw, k), r.ttl).Err(); err != nil {
		return fmt.Errorf("staging %d alerts in redis outbox %s: %w", len(as), key, err)
	}
	return nil
}

// Pending implements Outbox.
func (r *RedisOutbox) Pending(ctx context.Context, key string) ([]detector.Alert, error) {
	k := r.key(key)
	raw, err := r.client.Get(ctx, k).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading redis outbox %s: %w", key, err)
	}
	if raw, err = r.box.Open(raw, k); err != nil {
		return nil, fmt.Errorf("opening redis outbox %s: %w", key, err)
	}
	var as []detector.Alert
	if err := json.Unmarshal(raw, &as); err != nil {
		return nil, fmt.Errorf("decoding redis outbox %s: %w", key, err)
	}
	return as, nil
}

// Clear implements Outbox.
func (r *RedisOutbox) Clear(ctx context.Context, key string) error {
	if err := r.client.Del(ctx, r.key(key)).Err(); err != nil {
		return fmt.Errorf("clearing redis outbox %s: %w", key, err)
	}
	return nil
}
