package kafka

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// An unparsable record as large as the input topic took goes to the
// dead-letter topic, and the records after it flow on. Its dead letter is
// its bytes plus atod's headers: kafka-go's Writer refused anything over
// 1 MiB before asking the broker, and a size refusal was retried for ever
// on the session's one goroutine, which held every partition (and the
// next owner's, who met the same record). Under the broker's limit the
// bytes go as they were; just under it, with the headers over it, the
// dead letter goes without its value and says so.
func TestLargeUnparsableRecordIsDeadLetteredAndTheRestFlows(t *testing.T) {
	for _, tc := range []struct {
		size     int
		brokerMB int // message.max.bytes in MiB; 0: the default, 1048588 bytes
		dropped  bool
	}{
		{2_000_000, 4, false}, // over kafka-go's own 1 MiB, under the broker's limit
		{1_048_500, 0, true},  // the record fits the broker's limit, its dead letter does not
	} {
		t.Run(strconv.Itoa(tc.size), func(t *testing.T) {
			opts := []kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(1, "in", "dlq"),
				kfake.GroupMinSessionTimeout(100 * time.Millisecond)}
			if tc.brokerMB > 0 {
				opts = append(opts, kfake.BrokerConfigs(map[string]string{"message.max.bytes": strconv.Itoa(tc.brokerMB << 20)}))
			}
			c, err := kfake.NewCluster(opts...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.Close)
			broker := c.ListenAddrs()[0]
			big := bytes.Repeat([]byte("x"), tc.size)
			cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.DefaultProduceTopic("in"),
				kgo.ProducerBatchMaxBytes(4<<20), kgo.ProducerBatchCompression(kgo.NoCompression()))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			ctx := context.Background()
			if err := cl.ProduceSync(ctx, &kgo.Record{Value: big}).FirstErr(); err != nil {
				t.Fatalf("the broker refuses the record itself: %v", err)
			}
			if err := cl.ProduceSync(ctx, kgo.StringRecord(event(1))).FirstErr(); err != nil {
				t.Fatal(err)
			}

			cons, err := New(testConfig(broker), Options{})
			if err != nil {
				t.Fatal(err)
			}
			h := &fakeHandler{notify: make(chan struct{}, 1)}
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- cons.Run(rctx, h) }()
			deadline := time.After(15 * time.Second)
			for h.count() < 1 {
				select {
				case <-h.notify:
				case <-deadline:
					st := cons.Stats()
					cancel()
					<-done
					t.Fatalf("the record after a %d-byte unparsable one never reached the handler (%d dead-letter write errors)",
						tc.size, st.DLQErrors)
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			m, hs := firstDeadLetter(t, broker)
			if hs[HeaderReason] == "" || hs[HeaderOffset] != "0" || hs[HeaderPartition] != "0" {
				t.Errorf("dead letter headers %v: want the reason and where the record is", hs)
			}
			switch {
			case !tc.dropped && !bytes.Equal(m.Value, big):
				t.Errorf("dead letter of %d bytes, want the record's %d untouched", len(m.Value), tc.size)
			case tc.dropped && (len(m.Value) != 0 || hs[HeaderValueDropped] != strconv.Itoa(tc.size)):
				t.Errorf("dead letter of %d bytes with %s=%q; want no value and the record's size",
					len(m.Value), HeaderValueDropped, hs[HeaderValueDropped])
			}
		})
	}
}
