package redistest

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// NoneNamed fails t for every key of the server at c that contains one of
// words, in its name or in its value (strings, hashes, lists, sorted
// sets), and returns the keys it looked at: what a copy of the data would
// tell.
func NoneNamed(t testing.TB, c redis.UniversalClient, words ...string) (keys []string) {
	t.Helper()
	ctx := context.Background()
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		texts := []string{k}
		switch c.Type(ctx, k).Val() {
		case "string":
			texts = append(texts, c.Get(ctx, k).Val())
		case "hash":
			for f, v := range c.HGetAll(ctx, k).Val() {
				texts = append(texts, f, v)
			}
		case "zset":
			texts = append(texts, c.ZRange(ctx, k, 0, -1).Val()...)
		case "list":
			texts = append(texts, c.LRange(ctx, k, 0, -1).Val()...)
		}
		for _, w := range words {
			for _, s := range texts {
				if strings.Contains(s, w) {
					t.Errorf("key %q names %q", k, w)
					break
				}
			}
		}
	}
	return keys
}
