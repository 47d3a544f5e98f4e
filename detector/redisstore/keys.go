package redisstore

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"net/netip"
	"sync"
)

// keyer names the Redis keys: {prefix}u:{pseudonym} for an account and
// {prefix}a:{pseudonym} for an address. The braces are a Cluster hash tag:
// every key of one account (and of one address) hashes to one slot, so
// that keys added beside the state can be updated with it atomically.
//
// The pseudonym is the first 12 bytes of HMAC-SHA256(secret, kind, name),
// base64url-encoded: 16 characters, 96 bits. Among n = 1e9 accounts, the
// chance that two share a key is about n²/2^(bits+1): 6e-12 for 96 bits,
// but 1e-4 for 72 and 3% for 64, so it cannot be much shorter. Nor would
// shorter save memory: Redis stores a key of 15 to 30 characters in 32
// bytes (a 1-byte header and a NUL, rounded up to a jemalloc size class),
// and "atod:u:{...}" is 25; 16 bytes would take at most 14 characters.
// Without the secret, a copy of the data does not say which account or
// address a key is about.
type keyer struct {
	prefix string
	plain  bool // names in clear (redis.allow_plain_keys)

	pool sync.Pool // of hash.Hash: HMAC keyed with the secret

	// Recent names, so that Save does not hash again what Load just
	// hashed, nor Load what the last batches did; emptied when full.
	mu        sync.Mutex
	userCache map[string]string
	addrCache map[netip.Addr]string
}

// keyCacheSize bounds each of the two name caches: a few tens of MB at
// most, and enough for the 235,000 accounts and addresses of a 100,000-
// account tenant's month (at 1 << 16, HMACs were a tenth of a Redis
// replay's CPU).
const keyCacheSize = 1 << 18

const pseudonymBytes = 12

func newKeyer(prefix string, secret []byte) *keyer {
	k := &keyer{prefix: prefix, plain: secret == nil,
		userCache: make(map[string]string), addrCache: make(map[netip.Addr]string)}
	if !k.plain {
		secret = append([]byte(nil), secret...)
		k.pool.New = func() any { return hmac.New(sha256.New, secret) }
	}
	return k
}

func (k *keyer) user(name string) string {
	return cached(k, k.userCache, name, func() string {
		if k.plain {
			return k.prefix + "u:{" + name + "}"
		}
		return k.pseudonym("u:", append([]byte{'u', 0}, name...))
	})
}

func (k *keyer) addr(ip netip.Addr) string {
	return cached(k, k.addrCache, ip, func() string {
		if k.plain {
			return k.prefix + "a:{" + ip.String() + "}"
		}
		b, _ := ip.AppendBinary([]byte{'a', 0}) // cannot fail
		return k.pseudonym("a:", b)
	})
}

func cached[K comparable](k *keyer, cache map[K]string, name K, compute func() string) string {
	k.mu.Lock()
	key, ok := cache[name]
	k.mu.Unlock()
	if ok {
		return key
	}
	key = compute()
	k.mu.Lock()
	if len(cache) >= keyCacheSize {
		clear(cache)
	}
	cache[name] = key
	k.mu.Unlock()
	return key
}

func (k *keyer) pseudonym(kind string, msg []byte) string {
	h := k.pool.Get().(hash.Hash)
	h.Reset()
	h.Write(msg)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	k.pool.Put(h)
	const enc = 16 // base64 length of pseudonymBytes
	buf := make([]byte, 0, len(k.prefix)+len(kind)+2+enc)
	buf = append(buf, k.prefix...)
	buf = append(buf, kind...)
	buf = append(buf, '{')
	buf = base64.RawURLEncoding.AppendEncode(buf, sum[:pseudonymBytes])
	buf = append(buf, '}')
	return string(buf)
}
