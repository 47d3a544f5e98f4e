package main

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest"
	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// A partition works off an hour's backlog (its records lag the clock; a
// fetch every 10 ms). One record comes from a source whose clock is an
// hour ahead plus a few seconds (a time-zone error): early, so it runs
// "where it stands". Seconds later the ceiling (clock + 5 min) has moved
// past it, and the merge, judging it by today's ceiling, sees an ordinary
// event far after the frontier: every event of the partition behind it
// stops running until the partitions hold twice catch_up_events.
func TestAlignEarlyEventDoesNotStallABacklog(t *testing.T) {
	ctx := context.Background()
	clock := time.Now()
	cfg := detector.DefaultConfig()
	d, _, _ := newTestLiveDetector(t, cfg, detector.NewMemoryStore(0, 0))
	d.now = func() time.Time { return clock }
	if err := d.Assign(ctx, []ingestkafka.Assignment{{Partition: 0}}); err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("198.51.100.7")
	at := clock.Add(-time.Hour)
	var off int64
	next := func(tm time.Time, u string) ingest.Event {
		off++
		return ingest.Event{Time: tm, User: u, IP: ip, Type: ingest.TypeLogin, Outcome: ingest.OutcomeSuccess,
			Pos: ingest.Position{Partition: 0, Offset: off - 1}}
	}
	var done []ingest.Position
	total := 0
	for i := 0; i < 1000; i++ {
		clock = clock.Add(10 * time.Millisecond)
		var evs []ingest.Event
		for j := 0; j < 20; j++ {
			at = at.Add(time.Second)
			evs = append(evs, next(at, "u@x"))
		}
		if i == 0 {
			evs = append(evs, next(clock.Add(earlyAhead+3*time.Second), "tz@x"))
		}
		total += len(evs)
		more, err := d.Handle(ctx, ingestkafka.Batch{Partition: 0, Events: evs, Newest: at}, nil)
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, more...)
	}
	// 20,000 events over 5.5 hours of event time came, 10 s of wall clock:
	// all but the last lateness's worth are due.
	if len(done) < total/2 {
		t.Fatalf("%d of %d events of a backlog done: they wait behind the early one", len(done), total)
	}
}
