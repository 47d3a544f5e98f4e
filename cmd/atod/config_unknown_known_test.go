package main

import (
	"strings"
	"testing"
)

// A flow mapping whose unknown key has the name of a known key of another
// section on the same line: redis has no topic, kafka does. The message
// names redis.topic; taking the first key on the line ending in ".topic"
// named kafka.topic, a key that exists.
func TestUnknownKeyNamedLikeAKnownOneOnItsLine(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"{kafka: {topic: a}, redis: {topic: b}}\n", "redis.topic (line 1): unknown key"},
		{"{kafka: {topic: a}, redis: {topc: b}, topic: c}\n", "redis.topc (line 1): unknown key; topic (line 1): unknown key"},
	} {
		_, err := loadConfig(writeConfig(t, tc.text))
		if err == nil {
			t.Errorf("%q: no error", tc.text)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tc.want) {
			t.Errorf("%q: got %q, want it to name %q", tc.text, msg, tc.want)
		}
	}
}
