package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/internal/halves"
)

// Store keeps detector state in Redis, one string key per account and per
// address. A Load is one MGET and a Save one compare-and-set script call
// for the whole batch: two round trips a batch, whatever its size. On
// Cluster, where a command may only touch one slot, they are pipelines of
// single-key commands that the client sends to every node in parallel.
//
// Each value starts with its revision; Save writes only if every key still
// holds the revision loaded, and otherwise returns an error wrapping
// detector.ErrConflict, on which the Pipeline reloads and runs the batch
// again. Safe for concurrent use, though one engine per Store is the design:
// Save relies on what the same Store loaded for the same key.
//
// With redis.local_cache_entries above zero, the values a Save wrote are
// kept, and a Load of such a key reads it from there instead of Redis
// (see stateCache).
type Store struct {
	client           redis.UniversalClient
	single           bool // one node, not Cluster: whole batches in one command
	keys             *keyer
	userTTL, addrTTL time.Duration
	users            *codec[detector.UserState]
	addrs            *codec[detector.AddrState]
	log              *zap.Logger
	// dropped counts the states that could not be read and started
	// afresh (see decodeState and dropCorrupt), for a metric.
	dropped atomic.Int64

	mu sync.Mutex
	// lastUsers and lastAddrs are the states the last Load handed out, in
	// the order of reads (see loadFinder).
	lastUsers []*detector.UserState
	lastAddrs []*detector.AddrState
	// reads are the keys of the last Load: those the next Save does not
	// write it checks (see readChecks). loaded is what each held then, by
	// the same index: a slice the Save walks alongside rather than a map
	// by key, whose three operations a key (insert, look up, delete) were
	// a few percent of the live loop's CPU in a profile.
	reads  []string
	loaded []loadedValue
	// pending holds the writes of a failed Save, which may have landed
	// although the batch will run again; see pendingWrite.
	pending map[string]pendingWrite
	// cache holds the values last saved; nil: none kept.
	cache *stateCache
	// records: see RecordKey.
	records []byte
}

var _ detector.Store = (*Store)(nil)

// ErrUnavailable is wrapped by every error that means Redis could not be
// reached or cannot serve now (connection refused or lost, timeout, a
// server still loading its data, a Cluster without quorum): worth waiting
// for, unlike a bad password or a corrupt value. Retrier waits for it.
var ErrUnavailable = errors.New("unavailable")

// Options are what New needs besides the config.
type Options struct {
	// UserRetention and AddrRetention are the detector's: the key TTLs
	// default to a little more and may not be less.
	UserRetention, AddrRetention time.Duration
	Log                          *zap.Logger
	// LookupEnv reads the secrets' environment variables; nil means
	// os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// New validates cfg, reads the secrets and returns a Store. It does not
// connect; Ping does, and so does the first Load.
func New(cfg Config, opts Options) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	userTTL, addrTTL, err := cfg.ttls(opts.UserRetention, opts.AddrRetention)
	if err != nil {
		return nil, err
	}
	password, err := secret("password_file", cfg.PasswordFile, EnvPassword, opts.LookupEnv)
	if err != nil {
		return nil, err
	}
	pseudonymKey, err := secret("pseudonym_key_file", cfg.PseudonymKeyFile, EnvPseudonymKey, opts.LookupEnv)
	if err != nil {
		return nil, err
	}
	switch {
	case pseudonymKey == nil && !cfg.AllowPlainKeys:
		return nil, fmt.Errorf("redis.pseudonym_key_file: no pseudonym key, so keys would name accounts and addresses in clear; " +
			"put 16 or more random bytes in a file (head -c 32 /dev/urandom | base64 > FILE) and name it here, " +
			"or set " + EnvPseudonymKey + ", or set redis.allow_plain_keys: true to accept names in clear")
	case pseudonymKey != nil && cfg.AllowPlainKeys:
		return nil, fmt.Errorf("redis.allow_plain_keys: true, but %s is set: choose one", EnvPseudonymKey)
	case pseudonymKey != nil && len(pseudonymKey) < 16:
		return nil, fmt.Errorf("redis.pseudonym_key_file: the key has %d bytes; use 16 or more random bytes", len(pseudonymKey))
	}
	tlsConf, err := cfg.TLS.build()
	if err != nil {
		return nil, err
	}
	// The key says whose state a value is, and the revision heads the
	// value; neither is in the body.
	var seal *sealer
	if pseudonymKey != nil {
		seal = newSealer(pseudonymKey)
	}
	users, err := newCodec[detector.UserState](seal, "User", "Rev")
	if err != nil {
		return nil, fmt.Errorf("detector.UserState: %w", err)
	}
	addrs, err := newCodec[detector.AddrState](seal, "Addr", "Rev")
	if err != nil {
		return nil, fmt.Errorf("detector.AddrState: %w", err)
	}
	client := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:        cfg.Addrs,
		Username:     cfg.Username,
		Password:     string(password),
		TLSConfig:    tlsConf,
		DialTimeout:  cfg.DialTimeout,
		ReadTimeout:  cfg.ReadTimeout,
		WriteTimeout: cfg.WriteTimeout,
		ClientName:   "atod",
		// Waiting out an outage is the Retrier's job; the client only
		// retries once, for a pooled connection the server dropped.
		MaxRetries:    1,
		DialerRetries: 1,
	})
	opts.Log.Info("detector state in redis", zap.Strings("addrs", cfg.Addrs), zap.Bool("cluster", len(cfg.Addrs) > 1),
		zap.String("key_prefix", cfg.KeyPrefix), zap.Bool("pseudonymous_keys", pseudonymKey != nil),
		zap.Duration("user_ttl", userTTL), zap.Duration("addr_ttl", addrTTL),
		zap.Int("local_cache_entries", cfg.LocalCacheEntries))
	return &Store{
		client:  client,
		single:  len(cfg.Addrs) == 1,
		keys:    newKeyer(cfg.KeyPrefix, pseudonymKey),
		userTTL: userTTL,
		addrTTL: addrTTL,
		users:   users,
		addrs:   addrs,
		log:     opts.Log,
		pending: make(map[string]pendingWrite),
		cache:   newStateCache(cfg.LocalCacheEntries, min(userTTL, addrTTL)),
		records: recordKey(pseudonymKey),
	}, nil
}

// RecordKey returns a key derived from the pseudonym key for what atod
// keeps beside the state in the same Redis (the hooks' queue, the alert
// outbox), so that those records name no account in clear either; nil
// when keys are in clear (redis.allow_plain_keys).
func (s *Store) RecordKey() []byte { return s.records }

func recordKey(pseudonymKey []byte) []byte {
	if pseudonymKey == nil {
		return nil
	}
	return derive(pseudonymKey, "atod records beside the state")
}

// Ping checks that Redis answers; its error wraps ErrUnavailable when it
// does not.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return s.redisError(ctx, "ping", err)
	}
	return nil
}

// StateTTL is the shorter of the keys' wall-clock lifetimes: after an
// outage longer than this, state written before it has expired although
// the records after it, read when atod is back, may still need it.
func (s *Store) StateTTL() time.Duration { return min(s.userTTL, s.addrTTL) }

// Dropped reports how many states could not be read (damaged, or written
// by a version of atod that this one does not read) and started afresh.
func (s *Store) Dropped() int64 { return s.dropped.Load() }

// Close closes the connections.
func (s *Store) Close() error { return s.client.Close() }

// Load implements detector.Store. The values of keys in the cache are
// taken from there; the others are read in one round trip.
func (s *Store) Load(ctx context.Context, users []string, addrs []netip.Addr) ([]*detector.UserState, []*detector.AddrState, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	keys := make([]string, 0, len(users)+len(addrs))
	for _, u := range users {
		keys = append(keys, s.keys.user(u))
	}
	for _, a := range addrs {
		keys = append(keys, s.keys.addr(a))
	}
	raws, missing := s.fromCache(keys)
	if len(missing) > 0 {
		missKeys := keys
		if len(missing) < len(keys) {
			missKeys = make([]string, len(missing))
			for j, i := range missing {
				missKeys[j] = keys[i]
			}
		}
		got, err := s.get(ctx, missKeys)
		if err != nil {
			return nil, nil, err
		}
		for j, i := range missing {
			raws[i] = got[j]
		}
	}
	if err := s.dropCorrupt(ctx, keys, raws); err != nil {
		return nil, nil, err
	}
	bodies := s.remember(keys, raws)
	us := make([]*detector.UserState, len(users))
	as := make([]*detector.AddrState, len(addrs))
	halves.Do(len(keys), halvesMin, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			if k < len(users) {
				u, rev := decodeState(s, s.users, "account", keys[k], raws[k], bodies[k])
				u.User, u.Rev = users[k], rev
				us[k] = u
			} else {
				a, rev := decodeState(s, s.addrs, "address", keys[k], raws[k], bodies[k])
				a.Addr, a.Rev = addrs[k-len(users)], rev
				as[k-len(users)] = a
			}
		}
	})
	s.mu.Lock()
	s.lastUsers, s.lastAddrs = us, as
	s.mu.Unlock()
	return us, as, nil
}

// decodeState decodes a state of what kind ("account", "address") from
// what its key held (raw, and body as remember gave it), with the
// revision it held. An undecodable state is dropped, with a warning: the
// account or address starts afresh, and the revision still guards the
// write that replaces it.
func decodeState[T any](s *Store, c *codec[T], what, key string, raw, body []byte) (*T, int64) {
	v := new(T)
	rev, err := decodeInto(c, raw, body, v)
	if err != nil {
		s.log.Warn("dropping undecodable "+what+" state", zap.String("key", key), zap.Error(err))
		s.dropped.Add(1)
		*v = *new(T)
	}
	return v, rev
}

// fromCache takes the values of keys out of the cache: what it held, by
// key, and the indexes of the keys it did not hold.
func (s *Store) fromCache(keys []string) (raws [][]byte, missing []int) {
	raws = make([][]byte, len(keys))
	missing = make([]int, 0, len(keys))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache != nil {
		s.cache.tick()
	}
	for i, k := range keys {
		if s.cache != nil {
			raws[i] = s.cache.get(k)
		}
		if raws[i] == nil {
			missing = append(missing, i)
		}
	}
	return raws, missing
}

// maxGetKeys bounds the keys of one MGET: a command holds the whole server
// while it runs, and a partition catching up may load a few hundred
// thousand keys at once (kafka.catch_up_events). Bigger loads are several
// MGETs in one pipeline, so that other clients are served between them.
const maxGetKeys = 4096

// mget reads keys from a single node into raws, maxGetKeys at a time in
// one round trip.
func (s *Store) mget(ctx context.Context, keys []string, raws [][]byte) error {
	var cmds []*redis.SliceCmd
	if len(keys) <= maxGetKeys {
		cmds = append(cmds, s.client.MGet(ctx, keys...))
	} else {
		pipe := s.client.Pipeline()
		for i := 0; i < len(keys); i += maxGetKeys {
			cmds = append(cmds, pipe.MGet(ctx, keys[i:min(i+maxGetKeys, len(keys))]...))
		}
		_, _ = pipe.Exec(ctx) // errors are per command, below
	}
	for c, cmd := range cmds {
		vals, err := cmd.Result()
		if err != nil {
			return s.redisError(ctx, fmt.Sprintf("load of %d keys", len(keys)), err)
		}
		for i, v := range vals {
			if str, ok := v.(string); ok {
				raws[c*maxGetKeys+i] = []byte(str)
			}
		}
	}
	return nil
}

// get fetches keys in one round trip: one MGET from a single node, a
// pipeline of GETs that the client sends to each Cluster node. An absent
// key gives nil.
func (s *Store) get(ctx context.Context, keys []string) ([][]byte, error) {
	raws := make([][]byte, len(keys))
	if len(keys) == 0 {
		return raws, nil
	}
	if s.single {
		return raws, s.mget(ctx, keys, raws)
	}
	pipe := s.client.Pipeline()
	cmds := make([]*redis.StringCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.Get(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, s.redisError(ctx, fmt.Sprintf("load of %d keys", len(keys)), err)
	}
	for i, c := range cmds {
		b, err := c.Bytes()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return nil, s.redisError(ctx, "load of "+keys[i], err)
		default:
			raws[i] = b
		}
	}
	return raws, nil
}
