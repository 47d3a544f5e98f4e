package main

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/command"
	"github.com/atod-project/atod/alerts/dovecot"
	"github.com/atod-project/atod/alerts/google"
	"github.com/atod-project/atod/alerts/graph"
	"github.com/atod-project/atod/alerts/okta"
	"github.com/atod-project/atod/alerts/queue"
	"github.com/atod-project/atod/alerts/splunk"
	"github.com/atod-project/atod/alerts/syslog"
	"github.com/atod-project/atod/alerts/webhook"
)

// hooksConfig is the hooks section: the revocation hooks, and the
// machinery around every integration (queue, retries, limits, audit). A
// hook is enabled by its subsection being present.
type hooksConfig struct {
	// DryRun audits and logs what each revocation would send instead of
	// sending it (hooks.dry_run); sinks still deliver.
	DryRun  bool `yaml:"dry_run"`
	Workers int  `yaml:"workers"` // jobs carried out at once, revocations first
	// RevokeWorkers take only revocations, so that no backlog of alerts
	// or hung sink delays one.
	RevokeWorkers int           `yaml:"revoke_workers"`
	Lease         time.Duration `yaml:"lease"` // how long a worker holds a job before another may take it
	// MaxAge gives up on a job this long after its decision.
	MaxAge time.Duration `yaml:"max_age"`
	// DrainTimeout bounds how long replay waits, at its end, for queued
	// work (a provider that is down).
	DrainTimeout time.Duration       `yaml:"drain_timeout"`
	Limits       alerts.LimitsConfig `yaml:"limits"`
	Retry        alerts.RetryConfig  `yaml:"retry"`
	Queue        queue.RedisConfig   `yaml:"queue"`
	Audit        fileOutConfig       `yaml:"audit"`

	Graph   *graph.Config   `yaml:"graph"`
	Google  *google.Config  `yaml:"google"`
	Okta    *okta.Config    `yaml:"okta"`
	Dovecot *dovecot.Config `yaml:"dovecot"`
	Webhook *webhook.Config `yaml:"webhook"`
	Command *command.Config `yaml:"command"`
}

// sinksConfig is the sinks section: where every alert goes besides
// stdout (replay) or the Kafka alerts topic (run).
type sinksConfig struct {
	File    *fileOutConfig  `yaml:"file"`
	Webhook *webhook.Config `yaml:"webhook"`
	Splunk  *splunk.Config  `yaml:"splunk"`
	Syslog  *syslog.Config  `yaml:"syslog"`
	Command *command.Config `yaml:"command"`
}

// fileOutConfig is a JSON-lines file with size-based rotation.
type fileOutConfig struct {
	Path       string `yaml:"path"` // "-": stdout (sinks.file) or stderr (hooks.audit)
	MaxSizeMB  int    `yaml:"max_size_mb"`
	MaxBackups int    `yaml:"max_backups"`
}

// Environment variables for the two webhooks' secrets, unless secret_env
// names another.
const (
	envHookWebhookSecret = "ATOD_HOOK_WEBHOOK_SECRET"
	envSinkWebhookSecret = "ATOD_SINK_WEBHOOK_SECRET"
)

func defaultHooksConfig() hooksConfig {
	return hooksConfig{Workers: 8, RevokeWorkers: 2, Lease: time.Minute, MaxAge: 24 * time.Hour, DrainTimeout: time.Minute,
		Limits: alerts.DefaultLimitsConfig(), Retry: alerts.DefaultRetryConfig(), Queue: queue.DefaultRedisConfig(),
		Audit: fileOutConfig{Path: "-", MaxSizeMB: 100, MaxBackups: 5}}
}

// presetSections gives each hooks and sinks subsection present in raw its
// defaults before the strict decode fills in what the file says: a nil
// pointer would otherwise decode to a zero value without defaults, and
// presence is what enables an integration. It returns the presets of the
// sections written with no value ("dovecot:" or "dovecot: ~"), which the
// decode sets back to nil: the caller applies them again after it, so
// that such a section is on with its defaults, as "dovecot: {}" is. A
// bare "follow:" likewise means follow mode, not Kafka.
func presetSections(raw []byte, c *fileConfig) (again []func()) {
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(raw)).Decode(&root); err != nil || len(root.Content) == 0 {
		return nil // the strict decode reports it
	}
	hooks := map[string]func(){
		"graph":   func() { c.Hooks.Graph = ptr(graph.DefaultConfig()) },
		"google":  func() { c.Hooks.Google = ptr(google.DefaultConfig()) },
		"okta":    func() { c.Hooks.Okta = ptr(okta.DefaultConfig()) },
		"dovecot": func() { c.Hooks.Dovecot = ptr(dovecot.DefaultConfig()) },
		"webhook": func() { c.Hooks.Webhook = &webhook.Config{SecretEnv: envHookWebhookSecret} },
		"command": func() { c.Hooks.Command = &command.Config{} },
	}
	sinks := map[string]func(){
		"file":    func() { c.Sinks.File = &fileOutConfig{Path: "-", MaxSizeMB: 100, MaxBackups: 5} },
		"webhook": func() { c.Sinks.Webhook = &webhook.Config{SecretEnv: envSinkWebhookSecret} },
		"splunk":  func() { c.Sinks.Splunk = ptr(splunk.DefaultConfig()) },
		"syslog":  func() { c.Sinks.Syslog = ptr(syslog.DefaultConfig()) },
		"command": func() { c.Sinks.Command = &command.Config{} },
	}
	for name, section := range mapping(root.Content[0]) {
		if name == "follow" && isNull(section) {
			again = append(again, func() { c.Follow = &followConfig{} })
		}
		presets := map[string]map[string]func(){"hooks": hooks, "sinks": sinks}[name]
		for key, value := range mapping(section) {
			if preset, ok := presets[key]; ok {
				preset()
				if isNull(value) {
					again = append(again, preset)
				}
			}
		}
	}
	return again
}

// isNull reports a key written without a value, or with ~ or null.
func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// mapping returns the keys of a YAML mapping node and their values.
func mapping(n *yaml.Node) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n == nil || n.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[n.Content[i].Value] = n.Content[i+1]
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// responsePaths returns every file key of the hooks and sinks sections, so
// that loadConfig can take relative ones relative to the config file.
func (c *fileConfig) responsePaths() []*string {
	h, s := &c.Hooks, &c.Sinks
	ps := []*string{&h.Audit.Path}
	if h.Graph != nil {
		ps = append(ps, &h.Graph.ClientSecretFile, &h.Graph.CertificateFile, &h.Graph.PrivateKeyFile)
	}
	if h.Google != nil {
		ps = append(ps, &h.Google.CredentialsFile)
	}
	if h.Okta != nil {
		ps = append(ps, &h.Okta.APITokenFile, &h.Okta.PrivateKeyFile)
	}
	if h.Dovecot != nil {
		ps = append(ps, &h.Dovecot.APIKeyFile, &h.Dovecot.PasswordFile)
	}
	for _, w := range []*webhook.Config{h.Webhook, s.Webhook} {
		if w != nil {
			ps = append(ps, &w.SecretFile)
		}
	}
	if s.File != nil {
		ps = append(ps, &s.File.Path)
	}
	if s.Splunk != nil {
		ps = append(ps, &s.Splunk.TokenFile, &s.Splunk.CAFile)
	}
	if s.Syslog != nil {
		ps = append(ps, &s.Syslog.CAFile)
	}
	return ps
}

// resolveResponsePaths makes the relative file keys relative to dir; "-"
// (a standard stream) is left alone.
func (c *fileConfig) resolveResponsePaths(dir string) {
	for _, p := range c.responsePaths() {
		if *p != "" && *p != "-" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// validateResponse checks the hooks and sinks sections, secrets' presence
// included; each message names its key (hooks.graph.tenant_id: ...).
func (c *fileConfig) validateResponse() error {
	h, s := &c.Hooks, &c.Sinks
	var errs []error
	add := func(prefix string, err error) {
		if err != nil {
			errs = append(errs, prefixed(prefix, err))
		}
	}
	if h.Workers < 1 {
		add("hooks.workers", fmt.Errorf("must be at least 1, got %d", h.Workers))
	}
	if h.RevokeWorkers < 1 {
		add("hooks.revoke_workers", fmt.Errorf("must be at least 1, got %d", h.RevokeWorkers))
	}
	if h.Lease < time.Second {
		add("hooks.lease", fmt.Errorf("at least 1s, got %s", h.Lease))
	}
	if h.MaxAge <= 0 {
		add("hooks.max_age", fmt.Errorf("must be positive, got %s", h.MaxAge))
	}
	if h.DrainTimeout < 0 {
		add("hooks.drain_timeout", fmt.Errorf("must not be negative, got %s", h.DrainTimeout))
	}
	if h.Queue.Retention < h.MaxAge {
		add("hooks.queue.retention", fmt.Errorf("(%s) must be at least hooks.max_age (%s)", h.Queue.Retention, h.MaxAge))
	}
	add("hooks.", h.Limits.Validate())
	add("hooks.", h.Retry.Validate())
	add("hooks.", h.Queue.Validate())
	add("hooks.audit.", h.Audit.validate())
	if h.Graph != nil {
		add("hooks.graph.", h.Graph.Validate(nil))
	}
	if h.Google != nil {
		add("hooks.google.", h.Google.Validate())
	}
	if h.Okta != nil {
		add("hooks.okta.", h.Okta.Validate(nil))
	}
	if h.Dovecot != nil {
		add("hooks.dovecot.", h.Dovecot.Validate(nil))
	}
	if h.Webhook != nil {
		add("hooks.webhook.", h.Webhook.Validate(nil))
	}
	if h.Command != nil {
		add("hooks.command.", h.Command.Validate())
	}
	if s.File != nil {
		add("sinks.file.", s.File.validate())
	}
	if s.Webhook != nil {
		add("sinks.webhook.", s.Webhook.Validate(nil))
	}
	if s.Splunk != nil {
		add("sinks.splunk.", s.Splunk.Validate(nil))
	}
	if s.Syslog != nil {
		add("sinks.syslog.", s.Syslog.Validate())
	}
	if s.Command != nil {
		add("sinks.command.", s.Command.Validate())
	}
	return errors.Join(errs...)
}

func (f fileOutConfig) validate() error {
	var errs []error
	if f.Path == "" {
		errs = append(errs, errors.New("path: required (- for the standard stream)"))
	}
	if f.MaxSizeMB < 0 || f.MaxBackups < 0 {
		errs = append(errs, errors.New("max_size_mb and max_backups: must not be negative"))
	}
	return errors.Join(errs...)
}

// prefixed puts prefix before each of the (possibly joined) errors in err,
// so that a package's "tenant_id: required" reads
// "hooks.graph.tenant_id: required".
func prefixed(prefix string, err error) error {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		var out []error
		for _, e := range joined.Unwrap() {
			out = append(out, prefixed(prefix, e))
		}
		return errors.Join(out...)
	}
	sep := ""
	if !strings.HasSuffix(prefix, ".") {
		sep = ": "
	}
	return fmt.Errorf("%s%s%w", prefix, sep, err)
}

// hasResponse reports whether any hook or sink is configured.
func (c *fileConfig) hasResponse() bool {
	h, s := &c.Hooks, &c.Sinks
	return h.Graph != nil || h.Google != nil || h.Okta != nil || h.Dovecot != nil || h.Webhook != nil || h.Command != nil ||
		s.File != nil || s.Webhook != nil || s.Splunk != nil || s.Syslog != nil || s.Command != nil
}
