package kafka

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/loopback"
)

// Config is the kafka section of atod's configuration, less alerts_topic,
// which belongs to the alert publisher. Secrets are never in it: the SASL
// password comes from a file named here or from the environment.
type Config struct {
	Brokers []string `yaml:"brokers"` // host:port of some brokers (kafka.brokers)
	Topic   string   `yaml:"topic"`   // events (kafka.topic)
	Group   string   `yaml:"group"`   // consumer group (kafka.group)
	// Start is where a new group begins: "earliest" (the default: a
	// detector must not skip what is already queued) or "latest".
	Start string `yaml:"start"`
	// DLQTopic receives the records that cannot be decoded; empty: they
	// are only logged.
	DLQTopic string `yaml:"dlq_topic"`
	// Format is the name of the records' format, or "auto" (the default)
	// to detect it per record, falling back to the canonical JSON event.
	Format   string `yaml:"format"`
	ClientID string `yaml:"client_id"`

	TLS  TLSConfig  `yaml:"tls"`
	SASL SASLConfig `yaml:"sasl"`

	// SessionTimeout is how long the group waits for a silent member
	// before giving its partitions to the others: the pause in detection
	// when an instance dies.
	SessionTimeout    time.Duration `yaml:"session_timeout"`
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	RebalanceTimeout  time.Duration `yaml:"rebalance_timeout"`
	// MaxWait bounds how long a fetch of a quiet partition waits for
	// MinBytes to arrive; records that arrive end the wait at once.
	// kafka-go's Client asks the broker for at most 5 s (half its 10 s
	// request timeout, which leaves the round trip the other half).
	MaxWait  time.Duration `yaml:"max_wait"`
	MinBytes int           `yaml:"min_bytes"`
	MaxBytes int           `yaml:"max_bytes"`
	// MaxFuture is how far ahead of this machine's clock an event's time
	// may be; a record with an event later than that is dead-lettered (see
	// ingest.DefaultMaxFuture for why). 0 turns the check off.
	MaxFuture time.Duration `yaml:"max_future"`
	// CommitInterval is the least time between two offset commits; 0 (the
	// default) commits after every round of records handled. Events handled
	// but not yet committed are read and handled again after a crash, and
	// the detector counts them twice: the shorter, the better.
	CommitInterval time.Duration `yaml:"commit_interval"`
}

// TLSConfig is kafka.tls. Azure Event Hubs and Confluent Cloud need it
// with the system's roots, i.e. only enabled: true.
type TLSConfig struct {
	Enabled            bool   `yaml:"enabled"`
	CAFile             string `yaml:"ca_file"`   // PEM roots; empty: the system's
	CertFile           string `yaml:"cert_file"` // client certificate, with KeyFile
	KeyFile            string `yaml:"key_file"`
	ServerName         string `yaml:"server_name"`          // empty: the broker's host
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"` // for tests only
}

// SASLConfig is kafka.sasl. Event Hubs takes PLAIN with the user
// "$ConnectionString" and the connection string as the password.
type SASLConfig struct {
	// Mechanism is "plain", "scram-sha-256" or "scram-sha-512"; empty: no
	// SASL.
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	// PasswordFile holds the password; EnvPassword may carry it instead.
	PasswordFile string `yaml:"password_file"`
	// AllowPlaintext permits PLAIN without TLS to brokers off the
	// loopback, where the password crosses the network as it is.
	AllowPlaintext bool `yaml:"allow_plaintext"`
}

// EnvPassword may carry the SASL password instead of sasl.password_file.
const EnvPassword = "ATOD_KAFKA_PASSWORD"

// Start positions of a new group.
const (
	StartEarliest = "earliest"
	StartLatest   = "latest"
)

// FormatAuto detects the format of each record.
const FormatAuto = "auto"

// DefaultMaxWait is kafka.max_wait's default: a quiet partition's fetch
// waits up to 2 s for records. It adds no latency (records end a fetch's
// wait at once). While partitions were read with kafka-go's Reader, whose
// answer had to begin arriving within max_wait, 100 ms (the default then)
// left 25 ms for the round trip, and a broker 150 ms away was never read
// (TestFarBrokerIsRead); the fetcher's requests now have 10 s.
const DefaultMaxWait = 2 * time.Second

// DefaultConfig returns the defaults of DESIGN.md and of this package.
func DefaultConfig() Config {
	return Config{
		Brokers:           []string{"127.0.0.1:9092"},
		Topic:             "signins",
		Group:             "atod",
		Start:             StartEarliest,
		DLQTopic:          "atod-dlq",
		Format:            FormatAuto,
		ClientID:          "atod",
		SessionTimeout:    10 * time.Second,
		HeartbeatInterval: time.Second,
		RebalanceTimeout:  30 * time.Second,
		MaxWait:           DefaultMaxWait,
		MaxFuture:         ingest.DefaultMaxFuture,
		MinBytes:          1,
		MaxBytes:          8 << 20,
	}
}

// Validate reports every bad value, each named by its key under "kafka.";
// formats are the names Format may take besides "auto". It checks that
// the files named exist; their contents are read by New.
func (c *Config) Validate(formats []string) error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("kafka.%s: "+format, append([]any{key}, args...)...))
	}
	if len(c.Brokers) == 0 {
		bad("brokers", "no broker")
	}
	for i, b := range c.Brokers {
		host, port, err := net.SplitHostPort(b)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			bad(fmt.Sprintf("brokers[%d]", i), "%q is not HOST:PORT", b)
		}
	}
	for _, t := range [][2]string{{"topic", c.Topic}, {"dlq_topic", c.DLQTopic}} {
		if (t[1] != "" || t[0] == "topic") && !validTopic(t[1]) {
			bad(t[0], "%q is not a topic name (1 to 249 of a-z A-Z 0-9 . _ -)", t[1])
		}
	}
	if c.DLQTopic != "" && c.DLQTopic == c.Topic {
		bad("dlq_topic", "is kafka.topic: dead letters would be read again")
	}
	if c.Group == "" {
		bad("group", "empty")
	}
	if c.Start != StartEarliest && c.Start != StartLatest {
		bad("start", "%q is not earliest or latest", c.Start)
	}
	if c.Format != FormatAuto && !contains(formats, c.Format) {
		bad("format", "%q is not auto or one of %s", c.Format, strings.Join(formats, ", "))
	}
	for _, d := range []struct {
		key string
		val time.Duration
	}{{"session_timeout", c.SessionTimeout}, {"heartbeat_interval", c.HeartbeatInterval},
		{"rebalance_timeout", c.RebalanceTimeout}, {"max_wait", c.MaxWait}} {
		if d.val <= 0 {
			bad(d.key, "must be positive, got %s", d.val)
		}
	}
	if c.CommitInterval < 0 {
		bad("commit_interval", "must not be negative, got %s", c.CommitInterval)
	}
	if c.MaxFuture < 0 {
		bad("max_future", "must not be negative (0 turns the check off), got %s", c.MaxFuture)
	}
	if c.HeartbeatInterval >= c.SessionTimeout && c.SessionTimeout > 0 {
		bad("heartbeat_interval", "%s is not below kafka.session_timeout %s", c.HeartbeatInterval, c.SessionTimeout)
	}
	if c.MinBytes < 1 || c.MaxBytes < c.MinBytes {
		bad("min_bytes", "%d must be at least 1 and at most kafka.max_bytes %d", c.MinBytes, c.MaxBytes)
	}
	errs = append(errs, c.TLS.validate(), c.SASL.validate())
	if c.SASL.Mechanism == "plain" && !c.TLS.Enabled && !c.SASL.AllowPlaintext {
		if b := loopback.FirstRemote(c.Brokers); b != "" {
			errs = append(errs, fmt.Errorf("kafka.sasl.mechanism: plain without kafka.tls.enabled would send the password in clear to %s; enable TLS, use scram-sha-256 or scram-sha-512, or set kafka.sasl.allow_plaintext", b))
		}
	}
	return errors.Join(errs...)
}

func (t *TLSConfig) validate() error {
	var errs []error
	if !t.Enabled && (t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != "" || t.InsecureSkipVerify) {
		errs = append(errs, errors.New("kafka.tls.enabled: false, but other kafka.tls keys are set"))
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		errs = append(errs, errors.New("kafka.tls.cert_file: needs kafka.tls.key_file, and the other way round"))
	}
	for _, f := range [][2]string{{"ca_file", t.CAFile}, {"cert_file", t.CertFile}, {"key_file", t.KeyFile}} {
		errs = append(errs, checkFile("tls."+f[0], f[1]))
	}
	return errors.Join(errs...)
}

func (s *SASLConfig) validate() error {
	switch s.Mechanism {
	case "":
		if s.Username != "" || s.PasswordFile != "" {
			return errors.New("kafka.sasl.mechanism: empty, but kafka.sasl.username or password_file is set")
		}
		return nil
	case "plain", "scram-sha-256", "scram-sha-512":
	default:
		return fmt.Errorf("kafka.sasl.mechanism: %q is not plain, scram-sha-256 or scram-sha-512", s.Mechanism)
	}
	var errs []error
	if s.Username == "" {
		errs = append(errs, errors.New("kafka.sasl.username: empty"))
	}
	return errors.Join(append(errs, checkFile("sasl.password_file", s.PasswordFile))...)
}

func checkFile(key, path string) error {
	if path == "" {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("kafka.%s: %w", key, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("kafka.%s: %s is not a regular file", key, path)
	}
	return nil
}

func validTopic(t string) bool {
	if t == "" || len(t) > 249 || t == "." || t == ".." {
		return false
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
