package redisstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, []byte("a secret of some length\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*Config)
		keys []string // named in the error; none: valid
	}{
		{"defaults with an address", func(*Config) {}, nil},
		{"no address", func(c *Config) { c.Addrs = nil }, []string{"redis.addrs"}},
		{"bad and repeated addresses", func(c *Config) { c.Addrs = []string{"localhost", "a:1", "a:1", "b:99999"} },
			[]string{"redis.addrs[0]", "redis.addrs[2]", "redis.addrs[3]"}},
		{"brace in prefix", func(c *Config) { c.KeyPrefix = "atod{x}:" }, []string{"redis.key_prefix"}},
		{"plain keys and a key file", func(c *Config) { c.AllowPlainKeys, c.PseudonymKeyFile = true, file }, []string{"redis.allow_plain_keys"}},
		{"missing files", func(c *Config) {
			c.PasswordFile, c.PseudonymKeyFile = filepath.Join(dir, "nope"), dir
		}, []string{"redis.password_file", "redis.pseudonym_key_file"}},
		{"negative durations", func(c *Config) { c.UserTTL, c.ReadTimeout = -time.Second, -time.Second },
			[]string{"redis.user_ttl", "redis.read_timeout"}},
		{"backoff", func(c *Config) { c.RetryBackoffMax = time.Millisecond }, []string{"redis.retry_backoff_min"}},
		{"no local cache", func(c *Config) { c.LocalCacheEntries = 0 }, nil},
		{"negative local cache", func(c *Config) { c.LocalCacheEntries = -1 }, []string{"redis.local_cache_entries"}},
		{"tls keys without tls", func(c *Config) { c.TLS.CAFile = file }, []string{"redis.tls.enabled"}},
		{"certificate without key", func(c *Config) { c.TLS = TLSConfig{Enabled: true, CertFile: file} }, []string{"redis.tls.cert_file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.Addrs = []string{"127.0.0.1:6379"}
			tt.edit(&c)
			err := c.Validate()
			if len(tt.keys) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			for _, k := range tt.keys {
				if err == nil || !strings.Contains(err.Error(), k+":") {
					t.Errorf("Validate() = %v, want it to name %s", err, k)
				}
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "password")
	if err := os.WriteFile(file, []byte("s3cret\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	none := func(string) (string, bool) { return "", false }
	env := func(string) (string, bool) { return "from-env", true }
	if got, err := secret("password_file", file, EnvPassword, none); err != nil || string(got) != "s3cret" {
		t.Errorf("from a file: %q, %v", got, err)
	}
	if got, err := secret("password_file", "", EnvPassword, env); err != nil || string(got) != "from-env" {
		t.Errorf("from the environment: %q, %v", got, err)
	}
	if got, err := secret("password_file", "", EnvPassword, none); err != nil || got != nil {
		t.Errorf("from nowhere: %q, %v", got, err)
	}
	if _, err := secret("password_file", file, EnvPassword, env); err == nil || !strings.Contains(err.Error(), EnvPassword) {
		t.Errorf("from both: %v", err)
	}
}

func TestTTLs(t *testing.T) {
	c := DefaultConfig()
	user, addr, err := c.ttls(30*24*time.Hour, 24*time.Hour)
	if err != nil || user != 33*24*time.Hour || addr != 26*time.Hour+24*time.Minute {
		t.Errorf("default TTLs = %s, %s, %v", user, addr, err)
	}
	c.UserTTL = 24 * time.Hour
	if _, _, err := c.ttls(30*24*time.Hour, 24*time.Hour); err == nil || !strings.Contains(err.Error(), "redis.user_ttl") {
		t.Errorf("TTL below the retention: %v", err)
	}
}
