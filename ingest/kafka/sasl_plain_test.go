package kafka

import (
	"os"
	"path/filepath"
	"testing"
)

// SASL PLAIN sends the password as it is: without TLS it crosses the
// network in clear to every broker. The alert integrations refuse the
// same thing for HTTP (httpx.CheckPlainHTTP: plain http only to the
// loopback, or with allow_http); kafka.sasl with mechanism plain and
// kafka.tls.enabled false towards a broker on another host is accepted
// without a word.
func TestReviewSecSASLPlainWithoutTLSRefused(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "kafka-pw")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.Brokers = []string{"broker-1.example.net:9092"}
	c.SASL = SASLConfig{Mechanism: "plain", Username: "atod", PasswordFile: pw}
	if err := c.Validate([]string{"canonical"}); err == nil {
		t.Errorf("kafka.sasl.mechanism plain without kafka.tls.enabled to %s: accepted; want an error (the password would cross the network in clear)", c.Brokers[0])
	}
	for _, ok := range []func(*Config){
		func(c *Config) { c.TLS.Enabled = true },
		func(c *Config) { c.SASL.Mechanism = "scram-sha-512" },
		func(c *Config) { c.SASL.AllowPlaintext = true },
		func(c *Config) { c.Brokers = []string{"127.0.0.1:9092", "[::1]:9092", "localhost:9092"} },
	} {
		c := DefaultConfig()
		c.Brokers = []string{"broker-1.example.net:9092"}
		c.SASL = SASLConfig{Mechanism: "plain", Username: "atod", PasswordFile: pw}
		ok(&c)
		if err := c.Validate([]string{"canonical"}); err != nil {
			t.Errorf("%+v: %v", c.SASL, err)
		}
	}
}
