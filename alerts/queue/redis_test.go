package queue

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/atod-project/atod/alerts/queue/redistest"
)

func TestRedis(t *testing.T) {
	srv := redistest.Start(t)
	n := 0
	runSuite(t, func(t *testing.T) backend {
		c := newClock()
		n++
		cfg := DefaultRedisConfig()
		cfg.KeyPrefix = "t" + string(rune('a'+n)) + ":"
		client := redis.NewClient(&redis.Options{Addr: srv.Addr})
		t.Cleanup(func() { client.Close() })
		q, err := NewRedis(client, cfg, c.Now)
		if err != nil {
			t.Fatal(err)
		}
		if err := client.Ping(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
		return backend{queue: q, ledger: q, clock: c}
	})
}
