package kafka

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/entra"
)

func startBroker(t *testing.T, partitions int32, topics ...string) string {
	t.Helper()
	return startCluster(t, partitions, topics...).ListenAddrs()[0]
}

// startCluster is startBroker for a test that controls the broker's
// answers.
func startCluster(t *testing.T, partitions int32, topics ...string) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, topics...),
		kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func writeRecords(t testing.TB, broker, topic string, values ...string) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: topic, BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	msgs := make([]kafka.Message, len(values))
	for i, v := range values {
		msgs[i] = kafka.Message{Value: []byte(v), Headers: []kafka.Header{{Key: "origin", Value: []byte("test")}}}
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

func event(i int) string {
	return fmt.Sprintf(`{"time":"2026-03-02T08:00:%02dZ","user":"u%d@example.org","ip":"192.0.2.1","outcome":"failure","id":"e%d"}`, i%60, i, i)
}

func testConfig(broker string) Config {
	cfg := DefaultConfig()
	cfg.Brokers = []string{broker}
	cfg.Topic, cfg.DLQTopic, cfg.Group = "in", "dlq", "g"
	cfg.SessionTimeout, cfg.HeartbeatInterval = 2*time.Second, 100*time.Millisecond
	return cfg
}

// fakeHandler records what it gets; keep decides which events it reports
// done at once (nil: all); Revoke finishes the rest unless failRevoke.
type fakeHandler struct {
	keep        func(ingest.Event) bool
	failRevoke  bool
	blockRevoke bool

	mu     sync.Mutex
	got    []ingest.Event
	held   []ingest.Position
	notify chan struct{}
}

func (h *fakeHandler) Assign(context.Context, []Assignment) error { return nil }

func (h *fakeHandler) Handle(_ context.Context, b Batch, done []ingest.Position) ([]ingest.Position, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range b.Events {
		h.got = append(h.got, e)
		if h.keep == nil || h.keep(e) {
			done = append(done, e.Pos)
		} else {
			h.held = append(h.held, e.Pos)
		}
	}
	select {
	case h.notify <- struct{}{}:
	default:
	}
	return done, nil
}

func (h *fakeHandler) Tick(_ context.Context, _ time.Time, done []ingest.Position) ([]ingest.Position, error) {
	return done, nil
}

func (h *fakeHandler) Revoke(ctx context.Context, _ []int32, done []ingest.Position) ([]ingest.Position, error) {
	if h.blockRevoke {
		<-ctx.Done()
		return done, ctx.Err()
	}
	if h.failRevoke {
		return done, errors.New("cannot finish")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	done, h.held = append(done, h.held...), nil
	return done, nil
}

func (h *fakeHandler) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.got)
}

// runUntil runs a consumer until h got n events, then cancels it and
// returns Run's error.
func runUntil(t testing.TB, cfg Config, opts Options, h *fakeHandler, n int) error {
	t.Helper()
	return runTill(t, cfg, opts, h, n)()
}

// runTill runs a consumer until h got n events and returns, with the
// consumer still running, the function that stops it and returns Run's
// error (it may be called again).
func runTill(t testing.TB, cfg Config, opts Options, h *fakeHandler, n int) (stop func() error) {
	t.Helper()
	h.notify = make(chan struct{}, 1)
	c, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, h) }()
	deadline := time.After(30 * time.Second)
	for h.count() < n {
		select {
		case <-h.notify:
		case err := <-done:
			cancel()
			t.Fatalf("Run returned early: %v", err)
		case <-deadline:
			cancel()
			t.Fatalf("got %d events, want %d", h.count(), n)
		}
	}
	return sync.OnceValue(func() error {
		cancel()
		return <-done
	})
}

func committed(t *testing.T, broker string, cfg Config) kafka.OffsetFetchPartition {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(broker)}
	resp, err := client.OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{GroupID: cfg.Group, Topics: map[string][]int{cfg.Topic: {0}}})
	if err != nil || resp.Error != nil {
		t.Fatal(err, resp.Error)
	}
	return resp.Topics[cfg.Topic][0]
}

// A consumer that stops with events unfinished commits only up to the
// first of them, and the next member of the group reads everything from
// there again, finished or not (the detector skips what it applied; see
// session.prepare for why the finished ones are not skipped here).
func TestCommitStopsAtUnfinishedAndRestartReadsFromIt(t *testing.T) {
	broker := startBroker(t, 1, "in", "dlq")
	var vals []string
	for i := range 10 {
		vals = append(vals, event(i))
	}
	writeRecords(t, broker, "in", vals...)
	cfg := testConfig(broker)

	first := &fakeHandler{keep: func(e ingest.Event) bool { return e.Pos.Offset%2 == 0 }, failRevoke: true}
	if err := runUntil(t, cfg, Options{}, first, 10); err == nil || !bytes.Contains([]byte(err.Error()), []byte("cannot finish")) {
		t.Fatalf("Run: %v, want the Revoke failure reported on stop", err)
	}
	c := committed(t, broker, cfg)
	if c.CommittedOffset != 1 {
		t.Fatalf("committed %d, want 1: offset 1 was never finished", c.CommittedOffset)
	}

	second := &fakeHandler{}
	if err := runUntil(t, cfg, Options{}, second, 9); err != nil {
		t.Fatal(err)
	}
	var offsets []int64
	for _, e := range second.got {
		offsets = append(offsets, e.Pos.Offset)
	}
	if !slices.Equal(offsets, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Errorf("read again %v, want 1 to 9: everything from the commit point", offsets)
	}
	if c := committed(t, broker, cfg); c.CommittedOffset != 10 {
		t.Errorf("committed %d after all finished, want 10", c.CommittedOffset)
	}
}

// Records that do not decode go to the dead-letter topic untouched, with
// the reason; records of a sniffed format are decoded by it; the rest flows.
func TestDeadLettersAndFormats(t *testing.T) {
	broker := startBroker(t, 1, "in", "dlq")
	pipe := ingest.Format{Name: "pipe", Sniff: func(r []byte) bool { return bytes.HasPrefix(r, []byte("P|")) },
		New: func() ingest.Decoder { return pipeDecoder{} }}
	poison := []string{"{not json", "\x00\x01\xff raw", `{"time":"2026-03-02T08:00:00Z"}`, "P|"}
	writeRecords(t, broker, "in", event(0), poison[0], "P|pipe@example.org", poison[1], event(1), poison[2], poison[3], event(2))
	cfg := testConfig(broker)
	cfg.Format = FormatAuto
	h := &fakeHandler{}
	var stats Stats
	c, err := New(cfg, Options{Formats: []ingest.Format{pipe}})
	if err != nil {
		t.Fatal(err)
	}
	h.notify = make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, h) }()
	for h.count() < 4 {
		<-h.notify
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	stats = c.Stats()
	var users []string
	for _, e := range h.got {
		users = append(users, e.User)
	}
	if !slices.Equal(users, []string{"u0@example.org", "pipe@example.org", "u1@example.org", "u2@example.org"}) {
		t.Errorf("events of %v", users)
	}
	if stats.DeadLetters != 4 || stats.Records != 8 {
		t.Errorf("stats %+v, want 8 records, 4 dead letters", stats)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: "dlq", Partition: 0, MaxWait: 50 * time.Millisecond})
	defer r.Close()
	for i, want := range poison {
		rctx, rcancel := context.WithTimeout(context.Background(), 20*time.Second)
		m, err := r.ReadMessage(rctx)
		rcancel()
		if err != nil {
			t.Fatalf("dead letter %d: %v", i, err)
		}
		hs := map[string]string{}
		for _, h := range m.Headers {
			hs[h.Key] = string(h.Value)
		}
		if string(m.Value) != want || hs[HeaderReason] == "" || hs["origin"] != "test" || hs[HeaderTopic] != "in" || hs[HeaderPartition] != "0" {
			t.Errorf("dead letter %d: %q %v, want %q untouched, its headers kept, and a reason", i, m.Value, hs, want)
		}
	}
}

type pipeDecoder struct{}

func (pipeDecoder) Decode(rec []byte, emit func(ingest.Event)) error {
	user := string(bytes.TrimPrefix(rec, []byte("P|")))
	if user == "" {
		return errors.New("pipe record without a user")
	}
	emit(ingest.Event{Time: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), User: user, Type: ingest.TypeLogin})
	return nil
}

func (pipeDecoder) Flush(func(ingest.Event)) {}

// A handler that cannot finish in time does not hold the stop up for
// longer than DrainTimeout.
func TestStopIsBounded(t *testing.T) {
	broker := startBroker(t, 1, "in", "dlq")
	writeRecords(t, broker, "in", event(0))
	h := &fakeHandler{keep: func(ingest.Event) bool { return false }, blockRevoke: true}
	err := runUntil(t, testConfig(broker), Options{DrainTimeout: 200 * time.Millisecond}, h, 1)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run: %v, want the drain's deadline", err)
	}
	if c := committed(t, broker, testConfig(broker)); c.CommittedOffset > 0 {
		t.Errorf("committed %d past an unfinished event", c.CommittedOffset)
	}
}

// An Event Hubs message whose records are all usable but one: the others
// are detected on, and the bad one alone goes to the dead-letter topic,
// its own bytes, with the reason and its place among the envelope's
// unusable records.
func TestDeadLetterPartOfEnvelope(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/formats/entra/eventhubs-signinlogs.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var env struct{ Records []json.RawMessage }
	if err := json.Unmarshal(bytes.SplitN(raw, []byte("\n"), 2)[0], &env); err != nil || len(env.Records) < 2 {
		t.Fatalf("fixture: %v, %d records", err, len(env.Records))
	}
	bad := json.RawMessage(`{"time":"2026-03-02T10:01:00Z","category":"SignInLogs","properties":{"id":"bad-x","createdDateTime":"2026-03-02T10:01:00Z"}}`)
	recs := append([]json.RawMessage{env.Records[0], bad}, env.Records[1:]...)
	msg, _ := json.Marshal(map[string]any{"records": recs})

	broker := startBroker(t, 1, "in", "dlq")
	writeRecords(t, broker, "in", string(msg), event(0))
	cfg := testConfig(broker)
	cfg.Format = FormatAuto
	c, err := New(cfg, Options{Formats: []ingest.Format{entra.Format()}})
	if err != nil {
		t.Fatal(err)
	}
	h := &fakeHandler{notify: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, h) }()
	want := len(env.Records) + 1 // the envelope's good records and event(0)
	deadline := time.After(20 * time.Second)
	for h.count() < want {
		select {
		case <-h.notify:
		case <-deadline:
			t.Fatalf("%d events handled, want %d", h.count(), want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.DeadLetters != 1 || st.Records != 2 {
		t.Errorf("stats %+v, want 2 records, 1 dead letter", st)
	}
	m, hs := firstDeadLetter(t, broker)
	if !bytes.Equal(m.Value, bad) || hs[HeaderPart] != "1/1" || hs[HeaderOffset] != "0" ||
		!strings.Contains(hs[HeaderReason], "userPrincipalName") {
		t.Errorf("dead letter %s with headers %v, want the bad record alone, part 1/1 of offset 0, and why", m.Value, hs)
	}
	if c := committed(t, broker, cfg); c.CommittedOffset != 2 {
		t.Errorf("committed %d, want 2: the envelope is done once its events and its dead letter are", c.CommittedOffset)
	}
}

// firstDeadLetter returns the first record of the "dlq" topic and its
// headers by key.
func firstDeadLetter(t *testing.T, broker string) (kafka.Message, map[string]string) {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: "dlq", Partition: 0, MaxWait: 50 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := r.ReadMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hs := map[string]string{}
	for _, h := range m.Headers {
		hs[h.Key] = string(h.Value)
	}
	return m, hs
}

// With start latest, a new group's first owner pins the partition's end by
// committing it: records produced before a rebalance that came ahead of
// the first record are read by the next owner, not skipped because it
// found a later end.
func TestStartLatestPinsTheEnd(t *testing.T) {
	broker := startBroker(t, 1, "in", "dlq")
	writeRecords(t, broker, "in", event(0), event(1)) // before the group: never read
	cfg := testConfig(broker)
	cfg.Start = StartLatest
	c, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, &fakeHandler{}) }()
	deadline := time.Now().Add(20 * time.Second)
	client := &kafka.Client{Addr: kafka.TCP(broker)}
	for {
		resp, err := client.OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{GroupID: cfg.Group, Topics: map[string][]int{cfg.Topic: {0}}})
		if err == nil && resp.Error == nil && resp.Topics[cfg.Topic][0].CommittedOffset == 2 {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("the first owner did not pin the end: %+v, %v", resp, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The first owner left before any record came; the next one takes over.
	writeRecords(t, broker, "in", event(2), event(3), event(4))
	h := &fakeHandler{}
	if err := runUntil(t, cfg, Options{}, h, 3); err != nil {
		t.Fatal(err)
	}
	if ids := []string{h.got[0].ID, h.got[2].ID}; ids[0] != "e2" || ids[1] != "e4" {
		t.Errorf("next owner read %v ..., want e2 .. e4", ids)
	}
}
