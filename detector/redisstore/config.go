package redisstore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/atod-project/atod/ingest/secretfile"
	"github.com/atod-project/atod/ingest/tlsfiles"
)

// Config is the redis section of atod's configuration. Secrets are never
// in it: the password and the pseudonym key come from files named here or
// from the environment, and are read by New.
type Config struct {
	// Addrs are host:port addresses (redis.addrs): one for a single node,
	// several (seed nodes) for Redis Cluster.
	Addrs    []string `yaml:"addrs"`
	Username string   `yaml:"username"` // ACL user (redis.username); empty: default user
	// PasswordFile holds the password (redis.password_file); the
	// environment variable ATOD_REDIS_PASSWORD may carry it instead.
	PasswordFile string    `yaml:"password_file"`
	TLS          TLSConfig `yaml:"tls"`
	// KeyPrefix starts every key (redis.key_prefix), so that atod can share
	// a server; it may not contain braces, which would break the hash tags.
	KeyPrefix string `yaml:"key_prefix"`
	// PseudonymKeyFile holds the secret (16 bytes or more) of the HMAC that
	// turns account names and addresses into key names
	// (redis.pseudonym_key_file); ATOD_PSEUDONYM_KEY may carry it instead.
	// Without one atod refuses to start, unless AllowPlainKeys
	// (redis.allow_plain_keys) says that names in clear are acceptable, as
	// on a developer's laptop: a random key would silently lose all state
	// at each restart, and an unkeyed hash is reversed by hashing a staff
	// list.
	PseudonymKeyFile string `yaml:"pseudonym_key_file"`
	AllowPlainKeys   bool   `yaml:"allow_plain_keys"`
	// UserTTL and AddrTTL are the wall-clock lifetime of a key after its
	// last write (redis.user_ttl, redis.addr_ttl), so that memory stays
	// bounded and personal data expires even if atod stops. Zero: the
	// detector's retention plus a tenth (at least an hour), leaving room for
	// event time to lag behind the clock. Never shorter than the retention.
	UserTTL time.Duration `yaml:"user_ttl"`
	AddrTTL time.Duration `yaml:"addr_ttl"`

	DialTimeout  time.Duration `yaml:"dial_timeout"`
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// RetryBackoffMin and RetryBackoffMax bound the wait between attempts
	// while Redis is unreachable (redis.retry_backoff_min, _max).
	RetryBackoffMin time.Duration `yaml:"retry_backoff_min"`
	RetryBackoffMax time.Duration `yaml:"retry_backoff_max"`
	// LocalCacheEntries bounds how many values (accounts' and addresses'
	// states, encoded) this instance keeps after saving them, so that
	// loading them again reads no Redis (redis.local_cache_entries); 0:
	// none. See stateCache. A replay holds this many states, decoded, and
	// writes them back once per window (detector.WriteBehind); with 0 it
	// saves batch by batch.
	LocalCacheEntries int `yaml:"local_cache_entries"`
}

// TLSConfig is redis.tls.
type TLSConfig struct {
	Enabled            bool   `yaml:"enabled"`
	CAFile             string `yaml:"ca_file"`   // PEM roots; empty: the system's
	CertFile           string `yaml:"cert_file"` // client certificate, with KeyFile
	KeyFile            string `yaml:"key_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"` // for tests only
}

// Environment variables that may carry the secrets.
const (
	EnvPassword     = "ATOD_REDIS_PASSWORD"
	EnvPseudonymKey = "ATOD_PSEUDONYM_KEY"
)

// DefaultConfig returns the defaults; Addrs is empty, which means no Redis.
func DefaultConfig() Config {
	return Config{
		KeyPrefix:         "atod:",
		DialTimeout:       5 * time.Second,
		ReadTimeout:       3 * time.Second,
		WriteTimeout:      3 * time.Second,
		RetryBackoffMin:   100 * time.Millisecond,
		RetryBackoffMax:   10 * time.Second,
		LocalCacheEntries: DefaultLocalCacheEntries,
	}
}

// DefaultLocalCacheEntries is the default of redis.local_cache_entries.
// An entry costs about 0.6 KB of heap (the value and its map slot), so the
// bound is some 0.6 GB. A 100,000-account tenant's two million events touch
// 235,000 accounts and addresses; the cache keeps between half the bound
// and all of it, so a quarter of the bound would miss there.
const DefaultLocalCacheEntries = 1_000_000

// Validate reports every bad value, each named by its key under "redis.".
// It checks that the files named exist; their contents are read by New.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("redis.%s: "+format, append([]any{key}, args...)...))
	}
	if len(c.Addrs) == 0 {
		bad("addrs", "no address")
	}
	seen := make(map[string]bool)
	for i, a := range c.Addrs {
		host, port, err := net.SplitHostPort(a)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			bad(fmt.Sprintf("addrs[%d]", i), "%q is not HOST:PORT", a)
		} else if seen[a] {
			bad(fmt.Sprintf("addrs[%d]", i), "%q is listed twice", a)
		}
		seen[a] = true
	}
	if strings.ContainsAny(c.KeyPrefix, "{}") {
		bad("key_prefix", "%q contains a brace, which would break the Cluster hash tags", c.KeyPrefix)
	}
	if c.PseudonymKeyFile != "" && c.AllowPlainKeys {
		bad("allow_plain_keys", "true, but redis.pseudonym_key_file is set: choose one")
	}
	for _, d := range []struct {
		key string
		val time.Duration
	}{{"user_ttl", c.UserTTL}, {"addr_ttl", c.AddrTTL}, {"dial_timeout", c.DialTimeout},
		{"read_timeout", c.ReadTimeout}, {"write_timeout", c.WriteTimeout}} {
		if d.val < 0 {
			bad(d.key, "must not be negative, got %s", d.val)
		}
	}
	if c.LocalCacheEntries < 0 {
		bad("local_cache_entries", "must not be negative (0 keeps none), got %d", c.LocalCacheEntries)
	}
	if c.RetryBackoffMin <= 0 || c.RetryBackoffMax < c.RetryBackoffMin {
		bad("retry_backoff_min", "%s must be positive and at most redis.retry_backoff_max %s", c.RetryBackoffMin, c.RetryBackoffMax)
	}
	for _, f := range []struct{ key, path string }{{"password_file", c.PasswordFile},
		{"pseudonym_key_file", c.PseudonymKeyFile}, {"tls.ca_file", c.TLS.CAFile},
		{"tls.cert_file", c.TLS.CertFile}, {"tls.key_file", c.TLS.KeyFile}} {
		if f.path == "" {
			continue
		}
		if st, err := os.Stat(f.path); err != nil {
			bad(f.key, "%v", err)
		} else if !st.Mode().IsRegular() {
			bad(f.key, "%s is not a regular file", f.path)
		}
	}
	t := c.TLS
	if !t.Enabled && (t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.InsecureSkipVerify) {
		bad("tls.enabled", "false, but other redis.tls keys are set")
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		bad("tls.cert_file", "needs redis.tls.key_file, and the other way round")
	}
	return errors.Join(errs...)
}

// ttls returns the key lifetimes for the detector's retentions.
func (c *Config) ttls(userRetention, addrRetention time.Duration) (user, addr time.Duration, err error) {
	pick := func(key string, ttl, retention time.Duration) (time.Duration, error) {
		if ttl == 0 {
			return retention + max(retention/10, time.Hour), nil
		}
		if ttl < retention {
			return 0, fmt.Errorf("redis.%s: %s is shorter than the detector's retention %s: Redis would forget state the rules still use", key, ttl, retention)
		}
		return ttl, nil
	}
	user, uerr := pick("user_ttl", c.UserTTL, userRetention)
	addr, aerr := pick("addr_ttl", c.AddrTTL, addrRetention)
	return user, addr, errors.Join(uerr, aerr)
}

// secret reads a secret from the file named by key's value or from the
// environment variable env; setting both is an error. Trailing newlines
// of a file are not part of the secret.
func secret(key, path, env string, lookupEnv func(string) (string, bool)) ([]byte, error) {
	val, inEnv := lookupEnv(env)
	switch {
	case path != "" && inEnv:
		return nil, fmt.Errorf("redis.%s: set, and so is %s: use one", key, env)
	case inEnv:
		if val == "" {
			return nil, fmt.Errorf("%s: empty", env)
		}
		return []byte(val), nil
	case path == "":
		return nil, nil
	}
	raw, err := secretfile.Read("redis."+key, path)
	if err != nil {
		return nil, err
	}
	raw = []byte(strings.TrimRight(string(raw), "\r\n"))
	if len(raw) == 0 {
		return nil, fmt.Errorf("redis.%s: %s is empty", key, path)
	}
	return raw, nil
}

// build returns the client's TLS settings, or nil without TLS.
func (t TLSConfig) build() (*tls.Config, error) {
	if !t.Enabled {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // an explicit opt-in
	if t.CAFile != "" {
		var err error
		if c.RootCAs, err = tlsfiles.Roots("redis.tls.ca_file", t.CAFile); err != nil {
			return nil, err
		}
	}
	if t.CertFile != "" {
		cert, err := tlsfiles.KeyPair("redis.tls", t.CertFile, t.KeyFile)
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}
