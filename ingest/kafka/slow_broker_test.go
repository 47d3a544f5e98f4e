package kafka

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A broker whose fetch answers take longer than a LAN's round trip, as a
// managed service's in another region does (Event Hubs, Confluent Cloud),
// or one busy building a large answer: every record is still read, with
// the default configuration. kafka-go gives a fetch's answer max_wait to
// begin arriving, and asks the broker to wait up to three quarters of it
// for records; with max_wait at 100 ms, a broker 150 ms away timed out
// every fetch, and the consumer read nothing, retrying for ever.
func TestFarBrokerIsRead(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "in", "dlq"),
		kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
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
	h := &fakeHandler{}
	if err := runUntil(t, testConfig(broker), Options{}, h, n); err != nil {
		t.Fatal(err)
	}
}
