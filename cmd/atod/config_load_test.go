package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// README: "Relative paths are taken relative to the config file." The
// redis section's files (password, pseudonym key, TLS) are no exception:
// a config that travels with its secrets must find them wherever atod is
// started from.
func TestRedisRelativePathsAreRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"redis", "pseudonym", "ca.pem", "cert.pem", "key.pem"} {
		if err := os.WriteFile(filepath.Join(dir, "secrets", name), []byte("0123456789abcdef0123\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, "atod.yaml")
	if err := os.WriteFile(p, []byte(`
redis:
  addrs: [127.0.0.1:1]
  password_file: secrets/redis
  pseudonym_key_file: secrets/pseudonym
  tls:
    enabled: true
    ca_file: secrets/ca.pem
    cert_file: secrets/cert.pem
    key_file: secrets/key.pem
`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Redis
	for key, got := range map[string]string{
		"redis.password_file":      r.PasswordFile,
		"redis.pseudonym_key_file": r.PseudonymKeyFile,
		"redis.tls.ca_file":        r.TLS.CAFile,
		"redis.tls.cert_file":      r.TLS.CertFile,
		"redis.tls.key_file":       r.TLS.KeyFile,
	} {
		if !filepath.IsAbs(got) || !strings.HasPrefix(got, dir) {
			t.Errorf("%s = %q, want it under the config's directory %s", key, got, dir)
		}
	}
	// The consequence: started from another directory, the files are not
	// found, and atod refuses a config whose files exist.
	if err := r.Validate(); err != nil {
		t.Errorf("redis section with files beside the config: %v", err)
	}
}

// docs/hooks.md: "a hook or sink is on when its section is present". A
// section present with no keys of its own (all defaults: dovecot's URL
// and user, the key in ATOD_DOVEADM_API_KEY; a file sink on stdout) must
// not silently turn the integration off.
func TestEmptyHookSectionIsOn(t *testing.T) {
	for _, tc := range []struct {
		text string
		on   func(c *fileConfig) bool
	}{
		{"hooks:\n  dovecot:\n", func(c *fileConfig) bool { return c.Hooks.Dovecot != nil }},
		{"hooks:\n  dovecot: ~\n", func(c *fileConfig) bool { return c.Hooks.Dovecot != nil }},
		{"sinks:\n  file:\n", func(c *fileConfig) bool { return c.Sinks.File != nil }},
		// With {} it is on: the two spellings must agree.
		{"hooks:\n  dovecot: {}\n", func(c *fileConfig) bool { return c.Hooks.Dovecot != nil }},
	} {
		c, err := loadConfig(writeConfig(t, tc.text))
		if err != nil {
			t.Errorf("%q: %v", tc.text, err)
			continue
		}
		if !tc.on(&c) || !c.hasResponse() {
			t.Errorf("%q: the section is present but the integration is off (hasResponse %v)", tc.text, c.hasResponse())
		}
	}
}

// Every key is validated at start: hooks.drain_timeout too. A negative one
// makes replay --enable-hooks give up on its queued revocations at once.
func TestHooksDrainTimeoutValidated(t *testing.T) {
	c, err := loadConfig(writeConfig(t, "hooks:\n  drain_timeout: -1m\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Hooks.DrainTimeout != -time.Minute {
		t.Fatalf("drain_timeout = %s", c.Hooks.DrainTimeout)
	}
	if err := c.validateResponse(); err == nil || !strings.Contains(err.Error(), "hooks.drain_timeout") {
		t.Errorf("hooks.drain_timeout -1m: %v, want an error naming hooks.drain_timeout", err)
	}
}

// ops.listen is HOST:PORT with a port to listen on: one out of range is a
// configuration error at validation, and an empty one (which would listen
// on a random port nobody scrapes) is refused too.
func TestOpsListenPortValidated(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:99999", "127.0.0.1:", "127.0.0.1:-1"} {
		c := defaultOpsConfig()
		c.Listen = listen
		if err := c.validate(); err == nil || !strings.Contains(err.Error(), "ops.listen") {
			t.Errorf("ops.listen %q: %v, want an error naming ops.listen", listen, err)
		}
	}
	// A stop's bound: three quarters of it bound the consumer's drain,
	// which a huge value turned negative.
	c := defaultOpsConfig()
	c.ShutdownTimeout = 1 << 62
	if err := c.validate(); err == nil || !strings.Contains(err.Error(), "ops.shutdown_timeout") {
		t.Errorf("ops.shutdown_timeout %s: %v, want an error naming it", c.ShutdownTimeout, err)
	}
}

// DESIGN.md: "a bad value stops the program with a message naming the
// key". A value of the wrong type (a duration that does not parse, an
// integer out of range) is a bad value too; yaml.v3's own message says
// only "line 2: cannot unmarshal ...".
func TestConfigTypeErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct{ text, key string }{
		{"detector:\n  lateness: soon\n", "detector.lateness"},
		{"kafka:\n  batch_events: 99999999999999999999\n", "kafka.batch_events"},
		{"ops:\n  shutdown_timeout: 30\n", "ops.shutdown_timeout"},
		{"hooks:\n  workers: many\n", "hooks.workers"},
		{"kafka:\n  brokers: [a:1]\n  tls:\n    enabled: hunter2-secret-pass\n", "kafka.tls.enabled"},
		{"trusted_networks:\n  - 10.0.0.0/8\n  - [hunter2]\n", "trusted_networks[1]"},
	} {
		_, err := loadConfig(writeConfig(t, tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%q: %v, want an error naming %s", tc.text, err, tc.key)
		}
		// A secret pasted under the wrong key must not be echoed.
		if err != nil && strings.Contains(err.Error(), "hunter") {
			t.Errorf("%q: the error shows the value: %v", tc.text, err)
		}
	}
}

// A config file is one YAML document: what follows a second "---" is not
// silently ignored (here a redis section, without which run keeps its
// state in memory and forgets it at a restart).
func TestConfigSecondDocumentNotIgnored(t *testing.T) {
	c, err := loadConfig(writeConfig(t, "detector:\n  lateness: 2m\n---\nredis:\n  addrs: [127.0.0.1:1]\n"))
	if err == nil && len(c.Redis.Addrs) == 0 {
		t.Errorf("the second document's redis.addrs was ignored without an error")
	}
	// One document, with or without its --- and ..., is fine.
	for _, text := range []string{"---\ndetector:\n  lateness: 2m\n", "detector:\n  lateness: 2m\n...\n", "# nothing\n"} {
		if _, err := loadConfig(writeConfig(t, text)); err != nil {
			t.Errorf("%q: %v", text, err)
		}
	}
}

// A bare "follow:" asks for follow mode, whose path is then required; it
// must not fall back to Kafka on 127.0.0.1:9092.
func TestBareFollowSectionIsFollowMode(t *testing.T) {
	c, err := loadConfig(writeConfig(t, "follow:\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Follow == nil {
		t.Fatal("follow: without keys decoded to Kafka mode")
	}
	if err := c.Follow.validate(); err == nil || !strings.Contains(err.Error(), "follow.path") {
		t.Errorf("follow without a path: %v, want an error naming follow.path", err)
	}
}
