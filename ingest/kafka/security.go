package kafka

import (
	"crypto/tls"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/atod-project/atod/ingest/secretfile"
	"github.com/atod-project/atod/ingest/tlsfiles"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// Conn is how to reach the brokers, shared by the consumer and every
// producer atod runs (dead letters, alerts), so that TLS and SASL are set
// up once. kafka-go takes the same settings in two shapes: a Dialer for
// the consumer group, a Transport for writers and the Client (which the
// fetchers use).
type Conn struct {
	Brokers   []string
	Dialer    *kafka.Dialer
	Transport *kafka.Transport
}

// NewConn reads the certificates and the SASL password that cfg names;
// lookupEnv (nil: os.LookupEnv) reads EnvPassword. It does not connect.
func NewConn(cfg Config, lookupEnv func(string) (string, bool)) (*Conn, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	tlsConf, err := cfg.TLS.build()
	if err != nil {
		return nil, err
	}
	mech, err := cfg.SASL.mechanism(lookupEnv)
	if err != nil {
		return nil, err
	}
	return &Conn{
		Brokers: cfg.Brokers,
		Dialer: &kafka.Dialer{ClientID: cfg.ClientID, Timeout: 10 * time.Second, DualStack: true,
			TLS: tlsConf, SASLMechanism: mech},
		Transport: &kafka.Transport{ClientID: cfg.ClientID, DialTimeout: 10 * time.Second,
			TLS: tlsConf, SASL: mech, MetadataTTL: metadataTTL},
	}, nil
}

// metadataTTL is how long the Transport trusts its map of partition
// leaders. Fetches and alert writes go by it, and a partition whose
// leader moved is not read until the map is renewed: kafka-go's 6 s
// default held a partition that long in TestLeaderMoveIsFollowed. A
// metadata request a second is nothing to a broker.
const metadataTTL = time.Second

// Client returns a kafka-go Client over the brokers.
func (c *Conn) Client() *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(c.Brokers...), Transport: c.Transport, Timeout: 10 * time.Second}
}

func (t TLSConfig) build() (*tls.Config, error) {
	if !t.Enabled {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // an explicit opt-in, for tests
	if t.CAFile != "" {
		var err error
		if c.RootCAs, err = tlsfiles.Roots("kafka.tls.ca_file", t.CAFile); err != nil {
			return nil, err
		}
	}
	if t.CertFile != "" {
		cert, err := tlsfiles.KeyPair("kafka.tls", t.CertFile, t.KeyFile)
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

func (s SASLConfig) mechanism(lookupEnv func(string) (string, bool)) (sasl.Mechanism, error) {
	if s.Mechanism == "" {
		return nil, nil
	}
	password, err := s.password(lookupEnv)
	if err != nil {
		return nil, err
	}
	switch s.Mechanism {
	case "plain":
		return plain.Mechanism{Username: s.Username, Password: password}, nil
	case "scram-sha-256", "scram-sha-512":
		algo := scram.SHA256
		if s.Mechanism == "scram-sha-512" {
			algo = scram.SHA512
		}
		m, err := scram.Mechanism(algo, s.Username, password)
		if err != nil {
			return nil, fmt.Errorf("kafka.sasl: %w", err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("kafka.sasl.mechanism: %q is not supported", s.Mechanism)
}

// password reads the password from sasl.password_file or EnvPassword;
// both set is an error, so that no one wonders which one is used. Trailing
// newlines of a file are not part of it.
func (s SASLConfig) password(lookupEnv func(string) (string, bool)) (string, error) {
	env, inEnv := lookupEnv(EnvPassword)
	switch {
	case s.PasswordFile != "" && inEnv:
		return "", fmt.Errorf("kafka.sasl.password_file: set, and so is %s: use one", EnvPassword)
	case inEnv:
		if env == "" {
			return "", fmt.Errorf("%s: empty", EnvPassword)
		}
		return env, nil
	case s.PasswordFile == "":
		return "", fmt.Errorf("kafka.sasl.password_file: not set, and neither is %s", EnvPassword)
	}
	raw, err := secretfile.Read("kafka.sasl.password_file", s.PasswordFile)
	if err != nil {
		return "", err
	}
	pw := strings.TrimRight(string(raw), "\r\n")
	if pw == "" {
		return "", fmt.Errorf("kafka.sasl.password_file: %s is empty", s.PasswordFile)
	}
	return pw, nil
}
