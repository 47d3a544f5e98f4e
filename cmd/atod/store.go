package main

import (
	"context"
	"fmt"
	"os"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/redisstore"
)

// openStore returns the detector's state store: Redis when redis.addrs (or
// --redis-addr) names servers, else process memory. A Redis store that
// goes away later pauses detection until it is back (redisstore.Retrier).
// The Redis store is returned too (nil with memory state), for what lives
// beside the state (the hooks' queue: see besideState); closeStore
// releases the connections.
func openStore(ctx context.Context, cfg *fileConfig, log *zap.Logger) (store detector.Store, rs *redisstore.Store, closeStore func() error, err error) {
	det := &cfg.Detector
	if len(cfg.Redis.Addrs) == 0 {
		return detector.NewMemoryStore(det.UserRetention, det.AddrRetention), nil, func() error { return nil }, nil
	}
	rs, err = connectRedis(ctx, cfg, log)
	if err != nil {
		return nil, nil, nil, err
	}
	return redisstore.NewRetrier(rs, log, cfg.Redis.RetryBackoffMin, cfg.Redis.RetryBackoffMax), rs, rs.Close, nil
}

// besideState is what the hooks' queue takes of the state's Redis: its
// client and the key that seals its records; nil and nil with memory
// state.
func besideState(rs *redisstore.Store) (redis.UniversalClient, []byte) {
	if rs == nil {
		return nil, nil
	}
	return rs.Client(), rs.RecordKey()
}

// connectRedis opens the Redis store of redis.addrs and checks that it
// answers: one that cannot be reached at start is an error, so that a typo
// in an address does not look like a hang.
func connectRedis(ctx context.Context, cfg *fileConfig, log *zap.Logger) (*redisstore.Store, error) {
	// go-redis logs through a global logger; this is the one place that
	// sets it, so its per-attempt lines become debug lines of ours.
	redis.SetLogger(redisstore.ClientLogger(log))
	if cfg.Redis.TLS.InsecureSkipVerify {
		log.Warn("redis.tls.insecure_skip_verify: the server's certificate is not checked; anyone on the path can read and change detector state (for tests only)")
	}
	warnPlainRedis(&cfg.Redis, log, os.LookupEnv)
	det := &cfg.Detector
	rs, err := redisstore.New(cfg.Redis, redisstore.Options{
		UserRetention: det.UserRetention, AddrRetention: det.AddrRetention, Log: log,
	})
	if err != nil {
		return nil, usageError{err}
	}
	pingCtx, cancel := context.WithTimeout(ctx, cfg.Redis.DialTimeout+cfg.Redis.ReadTimeout)
	defer cancel()
	if err := rs.Ping(pingCtx); err != nil {
		rs.Close()
		return nil, fmt.Errorf("redis.addrs %v: %w", cfg.Redis.Addrs, err)
	}
	return rs, nil
}
