package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest"
)

// Topics of the tests' broker.
const (
	testTopic  = "signins"
	testAlerts = "atod-alerts"
	testDLQ    = "atod-dlq"
)

// startKafka runs an in-process Kafka-protocol broker on a loopback port
// with the tests' topics; cleanup stops it.
func startKafka(t testing.TB, partitions int32, opts ...kfake.Opt) string {
	t.Helper()
	c, err := kfake.NewCluster(append(testBrokerOpts(partitions), opts...)...)
	if err != nil {
		t.Fatalf("starting kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// testBrokerOpts are the options of the tests' broker, in this process or
// in one of its own (startKafkaProcess).
func testBrokerOpts(partitions int32) []kfake.Opt {
	return []kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(partitions, testTopic, testAlerts, testDLQ),
		kfake.GroupMinSessionTimeout(100 * time.Millisecond)}
}

// produce writes each value keyed by key(value), as an atod deployment's
// producers should (docs/kafka.md).
func produce(t testing.TB, broker string, values [][]byte, key func([]byte) string) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: testTopic, Balancer: &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond, BatchSize: 1000}
	defer w.Close()
	msgs := make([]kafka.Message, len(values))
	for i, v := range values {
		msgs[i] = kafka.Message{Key: []byte(key(v)), Value: v}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("producing %d records: %v", len(msgs), err)
	}
}

// userKey keys a canonical event by its account.
func userKey(v []byte) string {
	var e struct{ User string }
	_ = json.Unmarshal(v, &e)
	return e.User
}

// topicRecord is one record read back from a topic.
type topicRecord struct {
	partition int
	offset    int64
	key       string
	value     []byte
	headers   map[string]string
	time      time.Time
}

// readTopic returns the records of every partition of topic, waiting up
// to a minute for at least want of them (a safety net, not an assertion on
// time: the test fails on the count it got).
func readTopic(t testing.TB, broker, topic string, want int) []topicRecord {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 10 * time.Second}
	deadline := time.Now().Add(time.Minute)
	for {
		recs, err := readAll(client, topic)
		if err != nil {
			t.Fatalf("reading %s: %v", topic, err)
		}
		if len(recs) >= want || time.Now().After(deadline) {
			return recs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readAll(client *kafka.Client, topic string) ([]topicRecord, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, err
	}
	var out []topicRecord
	for _, tp := range meta.Topics {
		for _, p := range tp.Partitions {
			for off := int64(0); ; {
				resp, err := client.Fetch(ctx, &kafka.FetchRequest{Topic: topic, Partition: p.ID, Offset: off, MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 10 * time.Millisecond})
				if err != nil {
					return nil, err
				}
				if resp.Error != nil {
					return nil, resp.Error
				}
				n := 0
				for {
					r, err := resp.Records.ReadRecord()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						return nil, err
					}
					if r.Offset < off {
						continue
					}
					tr := topicRecord{partition: p.ID, offset: r.Offset, time: r.Time, headers: map[string]string{}}
					if r.Key != nil {
						b, _ := io.ReadAll(r.Key)
						tr.key = string(b)
					}
					if r.Value != nil {
						tr.value, _ = io.ReadAll(r.Value)
					}
					for _, h := range r.Headers {
						tr.headers[h.Key] = string(h.Value)
					}
					out = append(out, tr)
					off, n = r.Offset+1, n+1
				}
				if n == 0 || off >= resp.HighWatermark {
					break
				}
			}
		}
	}
	return out, nil
}

// alertsOf decodes alert records and checks each is keyed by its account.
func alertsOf(t testing.TB, recs []topicRecord) []detector.Alert {
	t.Helper()
	out := make([]detector.Alert, len(recs))
	for i, r := range recs {
		if err := json.Unmarshal(r.value, &out[i]); err != nil {
			t.Fatalf("alert record %s: %v", r.value, err)
		}
		if want := out[i].User; want != "" && r.key != want {
			t.Errorf("alert %s keyed %q, want its account %q", out[i].ID, r.key, want)
		}
	}
	return out
}

// alertIDs returns the sorted ids, and the ids seen more than once.
func alertIDs(as []detector.Alert) (ids, dups []string) {
	seen := map[string]int{}
	for _, a := range as {
		seen[a.ID]++
	}
	for id, n := range seen {
		ids = append(ids, id)
		if n > 1 {
			dups = append(dups, id)
		}
	}
	sort.Strings(ids)
	return ids, dups
}

// bruteForce returns, for n accounts, a burst of failed sign-ins from an
// address of each account's own, enough for one brute_force alert each,
// as canonical lines in event-time order per account. Accounts do not
// share addresses, so no rule looks across accounts and the alerts do not
// depend on how partitions interleave.
func bruteForce(n, failures int, start time.Time) [][]byte {
	var out [][]byte
	for f := range failures {
		for u := range n {
			at := start.Add(time.Duration(f)*10*time.Second + time.Duration(u)*time.Millisecond)
			out = append(out, fmt.Appendf(nil,
				`{"time":%q,"user":"user%04d@example.org","ip":"198.18.%d.%d","type":"login","outcome":"failure","reason":"bad_password","id":"e%d-%d"}`,
				at.Format(time.RFC3339Nano), u, u/250, 1+u%250, u, f))
		}
	}
	return out
}

func parseForTest(line []byte) (ingest.Event, error) { return ingest.ParseCanonical(line) }
