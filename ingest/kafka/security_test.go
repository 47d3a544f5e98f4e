package kafka

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

// selfSigned returns a server certificate for 127.0.0.1 and its PEM.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kfake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// The consumer reaches brokers over TLS with each SASL mechanism, the
// password from a file or from the environment.
func TestTLSAndSASL(t *testing.T) {
	cert, caPEM := selfSigned(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	pwFile := filepath.Join(dir, "password")
	os.WriteFile(caFile, caPEM, 0o600)
	os.WriteFile(pwFile, []byte("s3cret\n"), 0o600)
	for _, tt := range []struct {
		mech, kfakeMech string
		fromEnv         bool
	}{{"plain", "PLAIN", true}, {"scram-sha-256", "SCRAM-SHA-256", false}, {"scram-sha-512", "SCRAM-SHA-512", false}} {
		t.Run(tt.mech, func(t *testing.T) {
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "in", "dlq"),
				kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}),
				kfake.EnableSASL(), kfake.Superuser(tt.kfakeMech, "atod", "s3cret"),
				kfake.GroupMinSessionTimeout(100*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			broker := c.ListenAddrs()[0]
			cfg := testConfig(broker)
			cfg.TLS = TLSConfig{Enabled: true, CAFile: caFile}
			cfg.SASL = SASLConfig{Mechanism: tt.mech, Username: "atod"}
			env := func(string) (string, bool) { return "", false }
			if tt.fromEnv {
				env = func(k string) (string, bool) { return "s3cret", k == EnvPassword }
			} else {
				cfg.SASL.PasswordFile = pwFile
			}
			conn, err := NewConn(cfg, env)
			if err != nil {
				t.Fatal(err)
			}
			w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: "in", Transport: conn.Transport, BatchTimeout: time.Millisecond}
			if err := w.WriteMessages(t.Context(), kafka.Message{Value: []byte(event(1))}); err != nil {
				t.Fatalf("producing over TLS+SASL: %v", err)
			}
			w.Close()
			h := &fakeHandler{}
			if err := runUntil(t, cfg, Options{LookupEnv: env}, h, 1); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("x"), 0o600)
	mod := func(f func(*Config)) Config { c := DefaultConfig(); f(&c); return c }
	for _, tt := range []struct {
		cfg  Config
		want string
	}{
		{mod(func(c *Config) { c.Brokers = nil }), "kafka.brokers: no broker"},
		{mod(func(c *Config) { c.Brokers = []string{"nohost"} }), "kafka.brokers[0]"},
		{mod(func(c *Config) { c.Topic = "bad topic" }), "kafka.topic"},
		{mod(func(c *Config) { c.DLQTopic = c.Topic }), "kafka.dlq_topic"},
		{mod(func(c *Config) { c.Start = "middle" }), "kafka.start"},
		{mod(func(c *Config) { c.Format = "xml" }), "kafka.format"},
		{mod(func(c *Config) { c.CommitInterval = -time.Second }), "kafka.commit_interval"},
		{mod(func(c *Config) { c.MaxFuture = -time.Second }), "kafka.max_future"},
		{mod(func(c *Config) { c.HeartbeatInterval = c.SessionTimeout }), "kafka.heartbeat_interval"},
		{mod(func(c *Config) { c.TLS.CAFile = "x.pem" }), "kafka.tls.enabled"},
		{mod(func(c *Config) { c.TLS = TLSConfig{Enabled: true, CAFile: filepath.Join(dir, "none")} }), "kafka.tls.ca_file"},
		{mod(func(c *Config) { c.SASL.Mechanism = "gssapi" }), "kafka.sasl.mechanism"},
		{mod(func(c *Config) { c.SASL = SASLConfig{Mechanism: "plain", PasswordFile: pw} }), "kafka.sasl.username"},
		{mod(func(c *Config) { c.SASL.Username = "u" }), "kafka.sasl.mechanism: empty"},
	} {
		err := tt.cfg.Validate([]string{"canonical"})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate: %v, want %q", err, tt.want)
		}
	}
	c := DefaultConfig()
	if err := c.Validate([]string{"canonical"}); err != nil {
		t.Errorf("defaults: %v", err)
	}
	c.SASL = SASLConfig{Mechanism: "plain", Username: "u"}
	if _, err := NewConn(c, func(string) (string, bool) { return "", false }); err == nil || !strings.Contains(err.Error(), EnvPassword) {
		t.Errorf("no password anywhere: %v", err)
	}
	c.SASL.PasswordFile = pw
	if _, err := NewConn(c, func(k string) (string, bool) { return "y", k == EnvPassword }); err == nil || !strings.Contains(err.Error(), "use one") {
		t.Errorf("password in both places: %v", err)
	}
}
