package main

import (
	"go.uber.org/zap"

	"github.com/atod-project/atod/alerts/syslog"
	"github.com/atod-project/atod/detector/redisstore"
	"github.com/atod-project/atod/ingest/loopback"
)

// Private networks often carry Redis and syslog without TLS, so atod
// accepts both; but where a secret or personal data then crosses the
// network in clear, it says so at start, once, so that the choice is
// visible in the log rather than found in an audit (a security review's
// finding). Kafka's SASL PLAIN without TLS is refused outright
// (kafka.sasl.allow_plaintext): there the password is the whole of the
// access.

// warnPlainRedis warns when a Redis password goes without TLS to an
// address off the loopback: anyone on the path reads it, and every
// account's state with it.
func warnPlainRedis(cfg *redisstore.Config, log *zap.Logger, lookupEnv func(string) (string, bool)) {
	if cfg.TLS.Enabled {
		return
	}
	_, fromEnv := lookupEnv(redisstore.EnvPassword)
	if cfg.PasswordFile == "" && !fromEnv {
		return
	}
	if addr := loopback.FirstRemote(cfg.Addrs); addr != "" {
		log.Warn("redis: the password and the detector's state cross the network in clear; set redis.tls.enabled where the path is not trusted",
			zap.String("addr", addr))
	}
}

// warnPlainSyslog warns when the syslog sink sends alerts, which name
// accounts and their addresses, without TLS to a receiver off the
// loopback.
func warnPlainSyslog(cfg *syslog.Config, log *zap.Logger) {
	if cfg.TLS {
		return
	}
	if addr := loopback.FirstRemote([]string{cfg.Address}); addr != "" {
		log.Warn("sinks.syslog: alerts, with account names and addresses, cross the network in clear; set sinks.syslog.tls where the path is not trusted",
			zap.String("address", addr))
	}
}
