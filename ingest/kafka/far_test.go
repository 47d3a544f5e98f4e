package kafka

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// A broker whose fetch answers take longer than a LAN's round trip, as a
// managed service's in another region does (Event Hubs, Confluent Cloud),
// or one busy building a large answer: every record is still read, with
// the default configuration and with a max_wait shorter than the round
// trip. kafka-go's Reader, which read partitions before session 10, gave
// a fetch's answer max_wait to begin arriving: with 100 ms, a broker
// 150 ms away timed out every fetch, and the consumer read nothing,
// retrying for ever.
func TestFarBrokerIsRead(t *testing.T) {
	c := startCluster(t, 2, "in", "dlq")
	broker := c.ListenAddrs()[0]
	const n = 50
	values := make([]string, n)
	for i := range values {
		values[i] = event(i)
	}
	writeRecords(t, broker, "in", values...)
	// Every fetch, from here on, is answered 150 ms late; each partition's
	// reader has a connection of its own, so sleeping one holds no other.
	c.ControlKey(int16(kmsg.Fetch), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		c.SleepControl(func() { time.Sleep(150 * time.Millisecond) })
		return nil, nil, false
	})
	for _, maxWait := range []time.Duration{DefaultMaxWait, 100 * time.Millisecond} {
		cfg := testConfig(broker)
		cfg.MaxWait, cfg.Group = maxWait, "g-"+maxWait.String()
		h := &fakeHandler{}
		if err := runUntil(t, cfg, Options{}, h, n); err != nil {
			t.Fatalf("max_wait %s: %v", maxWait, err)
		}
	}
}

// A record whose event is days ahead of the clock goes to the dead-letter
// topic with the reason, its bytes untouched; those around it are handled.
// An event within kafka.max_future is an ordinary event.
func TestFarFutureEventIsDeadLettered(t *testing.T) {
	broker := startBroker(t, 1, "in", "dlq")
	soon := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	future := `{"time":"2150-01-01T00:00:00Z","user":"skewed@example.org","ip":"192.0.2.9","outcome":"success","id":"f1"}`
	writeRecords(t, broker, "in", event(0), future,
		`{"time":"`+soon+`","user":"soon@example.org","ip":"192.0.2.8","outcome":"success","id":"s1"}`, event(1))
	h := &fakeHandler{}
	if err := runUntil(t, testConfig(broker), Options{}, h, 3); err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, e := range h.got {
		users = append(users, e.User)
	}
	if !slices.Equal(users, []string{"u0@example.org", "soon@example.org", "u1@example.org"}) {
		t.Errorf("handled the events of %v", users)
	}
	m, hs := firstDeadLetter(t, broker)
	reason := hs[HeaderReason]
	if string(m.Value) != future || !strings.Contains(reason, "kafka.max_future") {
		t.Errorf("dead letter %q with reason %q; want the far-future record with a reason naming kafka.max_future", m.Value, reason)
	}
}
