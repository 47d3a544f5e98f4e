package kafka

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// slowCoordinator is a broker whose i'th offset commit (from 0) takes
// delay(i) to answer, as a group coordinator a region away does, with n
// records in "in".
func slowCoordinator(tb testing.TB, partitions int32, n int, delay func(i int) time.Duration) string {
	tb.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, "in", "dlq"),
		kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	broker := c.ListenAddrs()[0]
	vals := make([]string, n)
	for i := range vals {
		vals[i] = event(i)
	}
	writeRecords(tb, broker, "in", vals...)
	i := 0 // control functions run one at a time
	c.ControlKey(int16(kmsg.OffsetCommit), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		d := delay(i)
		i++
		c.SleepControl(func() { time.Sleep(d) })
		return nil, nil, false
	})
	return broker
}

// Commits that take their time still leave the group committed up to the
// last record handled once the consumer stops: the stop waits for the
// commit in flight and then commits the rest. The first commit, of the
// first round, is the slowest, so that it is still in flight at the stop.
// (One connection answers in order, here as with Kafka, so a stop that did
// not wait would still end right; the wait is for the outcome's
// bookkeeping, and for transports that pool connections.)
func TestSlowCommitsCommitEverythingAtStop(t *testing.T) {
	const n = 20_000
	broker := slowCoordinator(t, 1, n, func(i int) time.Duration {
		if i == 0 {
			return 500 * time.Millisecond
		}
		return 0
	})
	cfg := testConfig(broker)
	if err := runUntil(t, cfg, Options{}, &fakeHandler{}, n); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond) // for a first commit still on its way to land
	if c := committed(t, broker, cfg); c.CommittedOffset != n {
		t.Errorf("committed %d after a stop, want %d", c.CommittedOffset, n)
	}
}

// BenchmarkConsumeSlowCoordinator drains a pre-filled topic whose group
// coordinator answers commits after 100 ms, with a handler that does
// nothing: what the consumer alone reads.
//
//	go test ./ingest/kafka -run '^$' -bench SlowCoordinator -benchtime 3x
func BenchmarkConsumeSlowCoordinator(b *testing.B) {
	const n = 100_000
	for range b.N {
		b.StopTimer()
		broker := slowCoordinator(b, 4, n, func(int) time.Duration { return 100 * time.Millisecond })
		b.StartTimer()
		start := time.Now()
		if err := runUntil(b, testConfig(broker), Options{}, &fakeHandler{}, n); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(n/time.Since(start).Seconds(), "events/s")
	}
}
