package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/redisstore"
	"github.com/atod-project/atod/enrich"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// fileConfig is the YAML file of DESIGN.md. Each section maps onto the
// Config of the package that owns it; unknown keys are an error.
type fileConfig struct {
	GeoIP struct {
		City        string `yaml:"city"`
		ASN         string `yaml:"asn"`
		AnonymousIP string `yaml:"anonymous_ip"`
	} `yaml:"geoip"`
	TrustedNetworks []string          `yaml:"trusted_networks"`
	Kafka           kafkaConfig       `yaml:"kafka"`
	Redis           redisstore.Config `yaml:"redis"`
	Detector        detector.Config   `yaml:"detector"`
	Ops             opsConfig         `yaml:"ops"`
	Hooks           hooksConfig       `yaml:"hooks"`  // revocation hooks and delivery (hooks_config.go)
	Sinks           sinksConfig       `yaml:"sinks"`  // SOC feeds besides stdout and Kafka
	Follow          *followConfig     `yaml:"follow"` // run: follow a local file instead of Kafka
	Syslog          syslogConfig      `yaml:"syslog"` // timestamps without zone or year
}

// kafkaConfig and the redis section are read so that one file serves
// replay and run; they are validated when a command uses them.
// The consumer's keys (brokers, topic, group, start, dlq_topic, tls,
// sasl, ...) are ingest/kafka's; alerts_topic and max_hold are run's.
type kafkaConfig struct {
	ingestkafka.Config `yaml:",inline"`
	AlertsTopic        string `yaml:"alerts_topic"`
	// MaxHold bounds, in wall-clock time, how long live mode holds an
	// event back for earlier ones to arrive (see docs/kafka.md).
	MaxHold time.Duration `yaml:"max_hold"`
	// BatchEvents is how many events of a partition the rules take at
	// once: with Redis state each batch costs a read and a compare-and-set
	// round trip, so bigger batches trade latency for throughput. A
	// partition working off a backlog gets a bigger one (CatchUpEvents).
	BatchEvents int `yaml:"batch_events"`
	// CatchUpEvents is shared by the partitions this instance holds: each
	// gets an even part of it as its batch while it works off a backlog,
	// and as the most events of what is ready the rules take at once. A
	// bigger batch loads and saves each account and address once for more
	// events, which pays when a partition has many accounts, and costs
	// memory, about 0.75 KB per event, bounded by this whatever the number
	// of partitions. A bigger batch_events is kept.
	CatchUpEvents int `yaml:"catch_up_events"`
}

func defaultFileConfig() fileConfig {
	var c fileConfig
	c.Detector = detector.DefaultConfig()
	c.Redis = redisstore.DefaultConfig()
	c.Kafka = kafkaConfig{Config: ingestkafka.DefaultConfig(), AlertsTopic: "atod-alerts", MaxHold: defaultMaxHold,
		BatchEvents: detector.DefaultBatchSize, CatchUpEvents: defaultCatchUpEvents}
	c.Ops = defaultOpsConfig()
	c.Hooks = defaultHooksConfig()
	return c
}

// loadConfig reads path (empty: defaults only). Relative GeoIP paths are
// taken relative to the config file, so a config travels with its data.
func loadConfig(path string) (fileConfig, error) {
	c := defaultFileConfig()
	if path == "" {
		return c, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("reading config: %w", err)
	}
	again := presetSections(raw, &c)
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, fmt.Errorf("config %s: %s", path, strings.TrimPrefix(explainTypeErrors(err, raw).Error(), "yaml: "))
	}
	if err := fractionsInWholeNumbers(raw); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	// A second document would be ignored, and with it perhaps the redis
	// section that keeps state across restarts.
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return c, fmt.Errorf("config %s: holds more than one YAML document (a second ---); put every key in one", path)
	}
	for _, preset := range again {
		preset()
	}
	dir := filepath.Dir(path)
	k, r := &c.Kafka, &c.Redis
	for _, p := range []*string{&c.GeoIP.City, &c.GeoIP.ASN, &c.GeoIP.AnonymousIP,
		&k.TLS.CAFile, &k.TLS.CertFile, &k.TLS.KeyFile, &k.SASL.PasswordFile, &c.Ops.TokenFile,
		&r.PasswordFile, &r.PseudonymKeyFile, &r.TLS.CAFile, &r.TLS.CertFile, &r.TLS.KeyFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	c.resolveResponsePaths(dir)
	if c.Follow != nil {
		c.Follow.resolve(dir)
	}
	return c, nil
}

func (c *fileConfig) enrichConfig() enrich.Config {
	return enrich.Config{City: c.GeoIP.City, ASN: c.GeoIP.ASN, AnonymousIP: c.GeoIP.AnonymousIP,
		TrustedNetworks: c.TrustedNetworks}
}

// validate checks what every command needs; each message names its key.
func (c *fileConfig) validate() error {
	ec := c.enrichConfig()
	return errors.Join(ec.Validate(), c.Detector.Validate(), c.Syslog.validate())
}
