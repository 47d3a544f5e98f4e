package redisstore

import (
	"context"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// delIfScript deletes KEYS[1] if it holds exactly ARGV[1].
var delIfScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

// revisionParses reports whether raw starts with a revision atod could
// have written: a uvarint from 1 to 2^62.
func revisionParses(raw []byte) bool {
	u, err := newReader(raw).uvarint()
	return err == nil && u >= 1 && u <= 1<<62
}

// dropCorrupt deletes the values of keys whose revision does not parse
// (damaged bytes, or another program's value under atod's prefix), each
// only if it still holds exactly those bytes, and sets their raws to nil:
// absent. Such a value has no revision for the compare-and-set to expect,
// so the write replacing it was refused as a conflict on every rerun of
// its batch, which stopped the partition. Another instance's write in
// between is kept, and refuses this one's, as it should.
func (s *Store) dropCorrupt(ctx context.Context, keys []string, raws [][]byte) error {
	for i, raw := range raws {
		if raw == nil || revisionParses(raw) {
			continue
		}
		s.log.Warn("deleting a value whose revision does not parse; its account or address starts afresh",
			zap.String("key", keys[i]), zap.Int("bytes", len(raw)))
		if err := delIfScript.Run(ctx, s.client, []string{keys[i]}, raw).Err(); err != nil {
			return s.redisError(ctx, "deleting the damaged value of "+keys[i], err)
		}
		raws[i] = nil
		s.dropped.Add(1)
		if s.cache != nil {
			s.cache.drop(keys[i])
		}
	}
	return nil
}
