package main

import (
	"strings"
	"testing"
)

// Unknown keys in a flow mapping, several on one line, are each named by
// their own path: the second section's unknown "topc" was named
// kafka.topc twice, and an unknown key spelled as a known top-level
// section ("kafka" inside geoip) was named "kafka", a key that exists.
func TestUnknownKeysOnOneLine(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"{kafka: {topc: a}, redis: {topc: b}}\n", "redis.topc (line 1): unknown key"},
		{"{kafka: {topic: a}, geoip: {kafka: x}}\n", "geoip.kafka (line 1): unknown key"},
	} {
		_, err := loadConfig(writeConfig(t, tc.text))
		if err == nil {
			t.Errorf("%q: no error", tc.text)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.want) {
			t.Errorf("%q: got %q, want it to name %q", tc.text, msg, tc.want)
		}
	}
}
