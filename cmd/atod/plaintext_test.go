package main

import (
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/atod-project/atod/alerts/syslog"
	"github.com/atod-project/atod/detector/redisstore"
)

// A password or alerts sent in clear off the loopback are named at
// start; on the loopback, with TLS, or with no password, nothing is said.
func TestWarnPlaintext(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	withEnv := func(k string) (string, bool) { return "s3cret", k == redisstore.EnvPassword }
	for _, c := range []struct {
		name string
		run  func(*zap.Logger)
		warn bool
	}{
		{"redis password file, remote", func(l *zap.Logger) {
			warnPlainRedis(&redisstore.Config{Addrs: []string{"10.0.0.5:6379"}, PasswordFile: "/run/secrets/redis"}, l, noEnv)
		}, true},
		{"redis password from the environment, second seed remote", func(l *zap.Logger) {
			warnPlainRedis(&redisstore.Config{Addrs: []string{"127.0.0.1:7000", "redis-1:7001"}}, l, withEnv)
		}, true},
		{"redis password, loopback only", func(l *zap.Logger) {
			warnPlainRedis(&redisstore.Config{Addrs: []string{"127.0.0.1:6379", "[::1]:6380", "localhost:6381"}, PasswordFile: "/p"}, l, noEnv)
		}, false},
		{"redis password, TLS", func(l *zap.Logger) {
			warnPlainRedis(&redisstore.Config{Addrs: []string{"10.0.0.5:6379"}, PasswordFile: "/p", TLS: redisstore.TLSConfig{Enabled: true}}, l, noEnv)
		}, false},
		{"redis without a password", func(l *zap.Logger) {
			warnPlainRedis(&redisstore.Config{Addrs: []string{"10.0.0.5:6379"}}, l, noEnv)
		}, false},
		{"syslog, remote", func(l *zap.Logger) { warnPlainSyslog(&syslog.Config{Address: "siem.example.org:514"}, l) }, true},
		{"syslog, TLS", func(l *zap.Logger) { warnPlainSyslog(&syslog.Config{Address: "siem.example.org:6514", TLS: true}, l) }, false},
		{"syslog, loopback", func(l *zap.Logger) { warnPlainSyslog(&syslog.Config{Address: "[::ffff:127.0.0.1]:514"}, l) }, false},
	} {
		core, logs := observer.New(zap.WarnLevel)
		c.run(zap.New(core))
		if got := logs.Len() == 1; got != c.warn {
			t.Errorf("%s: warned %v (%d lines), want %v", c.name, got, logs.Len(), c.warn)
		}
		for _, e := range logs.All() {
			for _, f := range e.Context {
				if f.String == "s3cret" {
					t.Errorf("%s: the password is in the log", c.name)
				}
			}
		}
	}
}
