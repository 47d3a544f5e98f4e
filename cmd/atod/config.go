package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/enrich"
)

// fileConfig is the YAML file of DESIGN.md. Each section maps onto the
// Config of the package that owns it; unknown keys are an error.
type fileConfig struct {
	GeoIP struct {
		City        string `yaml:"city"`
		ASN         string `yaml:"asn"`
		AnonymousIP string `yaml:"anonymous_ip"`
	} `yaml:"geoip"`
	TrustedNetworks []string        `yaml:"trusted_networks"`
	Kafka           kafkaConfig     `yaml:"kafka"`
	Redis           redisConfig     `yaml:"redis"`
	Detector        detector.Config `yaml:"detector"`
}

// kafkaConfig and redisConfig are read so that one file serves replay and
// run; they are validated by the commands that use them.
type kafkaConfig struct {
	Brokers     []string `yaml:"brokers"`
	Topic       string   `yaml:"topic"`
	Group       string   `yaml:"group"`
	Start       string   `yaml:"start"`
	AlertsTopic string   `yaml:"alerts_topic"`
	DLQTopic    string   `yaml:"dlq_topic"`
}

type redisConfig struct {
	Addrs []string `yaml:"addrs"`
}

func defaultFileConfig() fileConfig {
	var c fileConfig
	c.Detector = detector.DefaultConfig()
	c.Kafka = kafkaConfig{Brokers: []string{"127.0.0.1:9092"}, Topic: "signins", Group: "atod", Start: "earliest",
		AlertsTopic: "atod-alerts", DLQTopic: "atod-dlq"}
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
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, fmt.Errorf("config %s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	dir := filepath.Dir(path)
	for _, p := range []*string{&c.GeoIP.City, &c.GeoIP.ASN, &c.GeoIP.AnonymousIP} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
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
	return errors.Join(ec.Validate(), c.Detector.Validate())
}
