package main

import (
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/atod-project/atod/alerts/syslog"
	"github.com/atod-project/atod/detector/redisstore"
)

// "localhost." is localhost's fully qualified form and resolves to the
// loopback like "localhost": no warning (found by a review: a spurious
// one).
func TestWarnPlaintextLocalhostDot(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	l := zap.New(core)
	warnPlainRedis(&redisstore.Config{Addrs: []string{"localhost.:6390"}, PasswordFile: "/p"}, l,
		func(string) (string, bool) { return "", false })
	warnPlainSyslog(&syslog.Config{Address: "localhost.:514"}, l)
	if logs.Len() != 0 {
		t.Errorf("loopback addresses written \"localhost.\" warned %d times; want none", logs.Len())
	}
}
