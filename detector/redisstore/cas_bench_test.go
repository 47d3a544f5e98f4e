package redisstore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// BenchmarkCompareAndSetWays measures what Redis spends per key (its own
// CPU, from INFO) to save 1,024 keys of 350-byte values, the size of an
// account's state, each way a compare-and-set could be done on one node:
//
//	go test ./detector/redisstore -run '^$' -bench CompareAndSetWays -benchtime 200x
//
// "script" is casScript, what Save runs; "script-sets" and "script-check"
// are its two halves alone; "watch-multi" checks the revisions with WATCH
// and MGET and writes in MULTI/EXEC; "sets" is a pipeline of plain SETs,
// the floor with no check at all.
func BenchmarkCompareAndSetWays(b *testing.B) {
	const n = 1024
	s := newTestStore(b, testConfig([]string{startRedis(b).addr()}, "bench:"))
	c := s.client.(*redis.Client)
	ctx := context.Background()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("bench:u:{%08d}", i)
	}
	body := strings.Repeat("x", 348)
	value := func(rev int64) []byte { return append(appendHeader(nil, rev), body...) }
	ttl := time.Hour
	var rev int64
	reset := func() {
		rev++
		if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.Set(ctx, k, value(rev), ttl)
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	sets := redis.NewScript(`for i, key in ipairs(KEYS) do redis.call('SET', key, ARGV[3*i-1], 'PX', ARGV[3*i]) end return {}`)
	check := redis.NewScript(strings.Replace(casSource, "if #changed == 0 then", "if false then", 1))
	script := func(sc *redis.Script) func() error {
		return func() error {
			args := make([]any, 0, 3*n)
			for range keys {
				args = append(args, revPrefix(rev), value(rev+1), ttl.Milliseconds())
			}
			changed, err := sc.Run(ctx, c, keys, args...).Int64Slice()
			if err == nil && len(changed) > 0 {
				err = fmt.Errorf("%d keys changed", len(changed))
			}
			return err
		}
	}
	watchMulti := func() error {
		return c.Watch(ctx, func(tx *redis.Tx) error {
			cur, err := tx.MGet(ctx, keys...).Result()
			if err != nil {
				return err
			}
			want := string(revPrefix(rev))
			for i, v := range cur {
				if str, _ := v.(string); !strings.HasPrefix(str, want) {
					return fmt.Errorf("key %d changed", i)
				}
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range keys {
					p.Set(ctx, k, value(rev+1), ttl)
				}
				return nil
			})
			return err
		}, keys...)
	}
	plain := func() error {
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.Set(ctx, k, value(rev+1), ttl)
			}
			return nil
		})
		return err
	}
	for _, way := range []struct {
		name string
		save func() error
	}{{"script", script(casScript)}, {"script-sets", script(sets)}, {"script-check", script(check)},
		{"watch-multi", watchMulti}, {"sets", plain}} {
		b.Run(way.name, func(b *testing.B) {
			var spent time.Duration
			for b.Loop() {
				b.StopTimer()
				reset()
				before := redisCPU(b, s)
				b.StartTimer()
				if err := way.save(); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				spent += redisCPU(b, s) - before
				b.StartTimer()
			}
			b.ReportMetric(float64(spent.Nanoseconds())/1e3/float64(b.N*n), "redis-µs/key")
		})
	}
}
