package kafka

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/entra"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"
)

func testFetcher(t *testing.T) *fetcher {
	t.Helper()
	cfg := testConfig("unused:9092")
	dec, err := newDecoders(cfg.Format, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fetcher{cfg: &cfg, partition: 3, dec: dec, log: zap.NewNop()}
}

// A response of many records reaches the session in chunks of at most
// maxChunk, in offset order, each event with its position; a record
// before the offset asked for (a batch may begin earlier) is passed
// over; a record that cannot be parsed keeps its own bytes, key and
// headers for the dead-letter topic, and its neighbours their events.
func TestDeliverChunksInOrder(t *testing.T) {
	f := testFetcher(t)
	const from, n, poison = 5, 2*maxChunk + 10, 700
	var recs []kafka.Record
	for off := int64(from - 2); off < from+n; off++ {
		v := event(int(off))
		if off == poison {
			v = "not json"
		}
		recs = append(recs, kafka.Record{Offset: off, Time: time.Unix(off, 0),
			Key: kafka.NewBytes([]byte(fmt.Sprint("k", off))), Value: kafka.NewBytes([]byte(v)),
			Headers: []kafka.Header{{Key: "origin", Value: []byte("test")}}})
	}
	res := &kafka.FetchResponse{HighWatermark: from + n, Records: kafka.NewRecordReader(recs...)}
	out := make(chan []record, 10)
	next, err := f.deliver(context.Background(), res, from, out)
	if err != nil || next != from+n {
		t.Fatalf("deliver = %d, %v; want %d, nil", next, err, from+n)
	}
	close(out)
	want := int64(from)
	for chunk := range out {
		if len(chunk) == 0 || len(chunk) > maxChunk {
			t.Errorf("a chunk of %d records", len(chunk))
		}
		for _, r := range chunk {
			if r.offset != want || r.partition != 3 || r.highWater != from+n {
				t.Fatalf("record at %d/%d (high water %d), want offset %d of partition 3", r.partition, r.offset, r.highWater, want)
			}
			want++
			if r.offset == poison {
				if r.reason == "" || r.msg == nil || string(r.msg.Value) != "not json" || string(r.msg.Key) != "k700" ||
					len(r.msg.Headers) != 1 || string(r.msg.Headers[0].Value) != "test" || len(r.events) != 0 {
					t.Errorf("poison record: reason %q, msg %+v, %d events", r.reason, r.msg, len(r.events))
				}
				continue
			}
			if r.reason != "" || r.msg != nil || len(r.events) != 1 {
				t.Fatalf("record %d: reason %q, msg %v, %d events", r.offset, r.reason, r.msg, len(r.events))
			}
			e := r.events[0]
			if e.User != fmt.Sprintf("u%d@example.org", r.offset) || e.Pos.Offset != r.offset || e.Pos.Partition != 3 {
				t.Errorf("record %d holds the event of %s at %+v", r.offset, e.User, e.Pos)
			}
		}
	}
	if want != from+n {
		t.Errorf("records up to %d delivered, want %d", want, from+n)
	}
}

// A consumer whose committed offset the partition no longer holds
// (retention deleted the records first) reads on from the partition's
// first record and says how many it lost, rather than retrying for ever.
func TestDeletedRecordsAreSkippedAndLogged(t *testing.T) {
	broker := startBroker(t, 1, "in", "dlq")
	var vals []string
	for i := range 10 {
		vals = append(vals, event(i))
	}
	writeRecords(t, broker, "in", vals[:3]...)
	cfg := testConfig(broker)
	if err := runUntil(t, cfg, Options{}, &fakeHandler{}, 3); err != nil {
		t.Fatal(err)
	}
	if c := committed(t, broker, cfg); c.CommittedOffset != 3 {
		t.Fatalf("committed %d, want 3", c.CommittedOffset)
	}
	writeRecords(t, broker, "in", vals[3:]...)
	deleteRecordsBefore(t, broker, "in", 6)

	core, logs := observer.New(zap.WarnLevel)
	h := &fakeHandler{}
	if err := runUntil(t, cfg, Options{Log: zap.New(core)}, h, 4); err != nil {
		t.Fatal(err)
	}
	if got := h.got[0].Pos.Offset; got != 6 {
		t.Errorf("read on from offset %d, want 6", got)
	}
	lost := logs.FilterMessageSnippet("records deleted before they were read").All()
	if len(lost) != 1 || lost[0].ContextMap()["lost"] != int64(3) {
		t.Errorf("log lines about deleted records: %+v", lost)
	}
}

func deleteRecordsBefore(t *testing.T, broker, topic string, offset int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrDeleteRecordsRequest()
	req.TimeoutMillis = 5000
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewDeleteRecordsRequestTopicPartition()
	rp.Partition, rp.Offset = 0, offset
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("deleting records: error code %d", code)
	}
}

// A transaction's commit marker ends the partition: the fetcher must
// fetch from beyond it, and so wait for new records, rather than ask for
// the marker again and again.
func TestTransactionMarkerIsPassed(t *testing.T) {
	c := startCluster(t, 1, "in", "dlq")
	broker := c.ListenAddrs()[0]
	produceInTransaction(t, broker, "in", event(0), event(1))

	var fetches atomic.Int64
	c.ControlKey(int16(kmsg.Fetch), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		fetches.Add(1)
		return nil, nil, false
	})
	cfg := testConfig(broker)
	cfg.MaxWait = time.Second
	h := &fakeHandler{}
	stop := runTill(t, cfg, Options{}, h, 2)
	before := fetches.Load()
	time.Sleep(500 * time.Millisecond)
	after := fetches.Load()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// Waiting for new records, a fetch lasts max_wait (1 s): at most one
	// ends in half a second. Fetching the marker again returns at once.
	if after-before > 2 {
		t.Errorf("%d fetches in 500 ms after the last record; the marker is fetched again and again", after-before)
	}
	if h.count() != 2 {
		t.Errorf("got %d events, want 2", h.count())
	}
}

func produceInTransaction(t *testing.T, broker, topic string, values ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.TransactionalID("atod-test"), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		if err := cl.ProduceSync(ctx, kgo.StringRecord(v)).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
}

// failingBytes is a record value whose reading fails, as when a response
// is cut short.
type failingBytes struct{}

func (failingBytes) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }
func (failingBytes) Close() error             { return nil }
func (failingBytes) Len() int                 { return 10 }

// A record that cannot be read ends the response there: the records
// before it are handed on, and the next fetch starts at it.
func TestDeliverHandsOnWhatPrecedesAnUnreadableRecord(t *testing.T) {
	f := testFetcher(t)
	var recs []kafka.Record
	for off := range int64(5) {
		r := kafka.Record{Offset: off, Value: kafka.NewBytes([]byte(event(int(off))))}
		if off == 3 {
			r.Value = failingBytes{}
		}
		recs = append(recs, r)
	}
	out := make(chan []record, 10)
	next, err := f.deliver(context.Background(), &kafka.FetchResponse{HighWatermark: 5, Records: kafka.NewRecordReader(recs...)}, 0, out)
	if next != 3 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("deliver = %d, %v; want 3 and the read's error", next, err)
	}
	close(out)
	var got []int64
	for chunk := range out {
		for _, r := range chunk {
			got = append(got, r.offset)
		}
	}
	if !slices.Equal(got, []int64{0, 1, 2}) {
		t.Errorf("handed on offsets %v, want 0, 1, 2", got)
	}
}

// Whatever a topic holds, every record at or past the offset asked for
// reaches the session once, in order, as events, as handled, or with what
// the dead-letter topic needs: nothing is dropped and nothing panics.
// The input is split on newlines into records' values; the canonical
// format and Entra's envelope are detected.
func FuzzDeliver(f *testing.F) {
	f.Add([]byte(event(1) + "\n" + event(2)))
	f.Add([]byte("not json\n{}\n" + event(3)))
	f.Add([]byte(`{"records":[{"time":"2026-03-02T08:00:00Z","operationName":"Sign-in activity","category":"SignInLogs","properties":{"userPrincipalName":"a@example.org","ipAddress":"192.0.2.1","status":{"errorCode":0}}},{"bad":1}]}`))
	f.Add([]byte(`{"time":"2150-01-01T00:00:00Z","user":"far@example.org","ip":"2001:db8::1","outcome":"success","id":"f"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fe := testFetcher(t)
		dec, err := newDecoders(FormatAuto, []ingest.Format{entra.Format()})
		if err != nil {
			t.Fatal(err)
		}
		fe.dec = dec
		var recs []kafka.Record
		values := bytes.Split(data, []byte("\n"))
		for i, v := range values {
			recs = append(recs, kafka.Record{Offset: int64(i), Value: kafka.NewBytes(v)})
		}
		out := make(chan []record, len(values)+1)
		next, err := fe.deliver(context.Background(), &kafka.FetchResponse{HighWatermark: int64(len(values)),
			Records: kafka.NewRecordReader(recs...)}, 0, out)
		if err != nil || next != int64(len(values)) {
			t.Fatalf("deliver = %d, %v; want %d, nil", next, err, len(values))
		}
		close(out)
		want := int64(0)
		for chunk := range out {
			for _, r := range chunk {
				if r.offset != want {
					t.Fatalf("record %d where %d was due", r.offset, want)
				}
				want++
				switch {
				case r.reason != "":
					if r.msg == nil || !bytes.Equal(r.msg.Value, values[r.offset]) || len(r.events) > 0 {
						t.Fatalf("refused record %d: msg %v, %d events", r.offset, r.msg, len(r.events))
					}
				case r.handled:
					if len(r.events) > 0 || len(r.parts) > 0 {
						t.Fatalf("record %d handled with %d events and %d parts", r.offset, len(r.events), len(r.parts))
					}
				case len(r.events) == 0 && len(r.parts) == 0:
					t.Fatalf("record %d carries nothing and is neither handled nor refused", r.offset)
				}
				if len(r.parts) > 0 && r.msg == nil {
					t.Fatalf("record %d has unusable parts but no message to dead-letter them with", r.offset)
				}
				for _, e := range r.events {
					if e.Pos.Offset != r.offset || e.Pos.Partition != fe.partition {
						t.Fatalf("record %d holds an event at %+v", r.offset, e.Pos)
					}
				}
			}
		}
		if want != int64(len(values)) {
			t.Fatalf("%d records handed on of %d", want, len(values))
		}
	})
}

// A broker whose answers hold nothing past the offset asked for, though
// the partition holds more (a batch that compaction emptied, a record that
// cannot be read): the fetcher says so once and asks again with backoff,
// instead of asking again at once, for ever, and saying nothing.
func TestStalledPartitionIsSaidAndBackedOff(t *testing.T) {
	c := startCluster(t, 1, "in", "dlq")
	broker := c.ListenAddrs()[0]
	var fetches atomic.Int64
	c.ControlKey(int16(kmsg.Fetch), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		fetches.Add(1)
		req := kr.(*kmsg.FetchRequest)
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic, rt.TopicID = "in", req.Topics[0].TopicID
		rp := kmsg.NewFetchResponseTopicPartition()
		rp.HighWatermark, rp.LastStableOffset = 5, 5
		rt.Partitions = append(rt.Partitions, rp)
		resp.Topics = append(resp.Topics, rt)
		return resp, nil, true
	})
	core, logs := observer.New(zap.InfoLevel)
	cons, err := New(testConfig(broker), Options{Log: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cons.Run(ctx, &fakeHandler{}) }()
	deadline := time.Now().Add(10 * time.Second)
	for fetches.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	first := fetches.Load()
	time.Sleep(time.Second)
	n := fetches.Load() - first
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Backing off from 100 ms, doubling: about four fetches in a second.
	if first == 0 || n > 8 {
		t.Errorf("%d fetches in the second after the first (%d before): no backoff", n, first)
	}
	if said := logs.FilterMessage("partition makes no progress; retrying").Len(); said != 1 {
		t.Errorf("the stall was said %d times, want once", said)
	}
}

// When a partition's leader moves to another broker, the fetcher finds
// the new one and reads on: events produced before and after the move
// all arrive.
func TestLeaderMoveIsFollowed(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(1, "in", "dlq"),
		kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	broker := c.ListenAddrs()[0]
	writeRecords(t, broker, "in", event(0), event(1))
	h := &fakeHandler{}
	stop := runTill(t, testConfig(broker), Options{Log: zaptest.NewLogger(t)}, h, 2)
	t.Cleanup(func() { _ = stop() })
	from := c.LeaderFor("in", 0)
	if err := c.MoveTopicPartition("in", 0, (from+1)%3); err != nil {
		t.Fatal(err)
	}
	writeRecords(t, broker, "in", event(2), event(3))
	deadline := time.After(30 * time.Second)
	for h.count() < 4 {
		select {
		case <-h.notify:
		case <-deadline:
			t.Fatalf("got %d events after the leader moved from broker %d, want 4", h.count(), from)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
