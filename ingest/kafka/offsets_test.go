package kafka

import (
	"math"
	"testing"
	"time"
)

func TestTrackerCommitPoint(t *testing.T) {
	t0 := time.UnixMilli(1_700_000_000_000)
	var tr tracker
	if _, _, ok := tr.commitPoint(); ok {
		t.Fatal("a tracker that read nothing must not commit: it would erase the last commit's metadata")
	}
	// Offsets 10..15 (13 missing, as after compaction); 10 and 12 wait
	// for two events each.
	for i, off := range []int64{10, 11, 12, 14, 15} {
		n := 1
		if off == 10 || off == 12 {
			n = 2
		}
		tr.add(off, n, t0, t0.Add(time.Duration(i)*time.Second))
	}
	for _, off := range []int64{11, 14, 12, 15} {
		tr.done(off)
	}
	off, meta, ok := tr.commitPoint()
	if !ok || off != 10 {
		t.Fatalf("commit point %d %v, want 10", off, ok)
	}
	// 12 still waits for one more event: the commit stays at 10, and
	// says when 10 was fetched.
	since, err := decodeMeta(meta)
	if err != nil || !since.Equal(t0) {
		t.Fatalf("metadata %q: since %v err %v", meta, since, err)
	}
	if _, complete := tr.done(99); complete {
		t.Error("done for an unknown offset completed something")
	}
	tr.done(10)
	tr.done(10)
	tr.done(12)
	off, meta, _ = tr.commitPoint()
	if off != 16 {
		t.Errorf("commit point %d after all done, want 16", off)
	}
	// Fully handled: the time of the last record fetched.
	if since, _ := decodeMeta(meta); !since.Equal(t0.Add(4 * time.Second)) {
		t.Errorf("metadata %q past a fully handled partition: since %v", meta, since)
	}
}

func TestMetaRoundTrip(t *testing.T) {
	since := time.UnixMilli(1234567890123)
	meta := encodeMeta(since)
	if got, err := decodeMeta(meta); err != nil || !got.Equal(since) {
		t.Errorf("decode(%q) = %v %v", meta, got, err)
	}
	// Written by earlier versions, which listed handled runs: read, runs
	// ignored.
	if got, err := decodeMeta("a1;1234567890123;1+0,2z+5"); err != nil || !got.Equal(since) {
		t.Errorf("earlier metadata: %v %v", got, err)
	}
	for _, foreign := range []string{"", "some other tool", "a2;1;0+1"} {
		if s, err := decodeMeta(foreign); err != nil || !s.IsZero() {
			t.Errorf("foreign metadata %q: %v %v, want nothing and no error", foreign, s, err)
		}
	}
	for _, bad := range []string{"a1;x;", "a1;;"} {
		if _, err := decodeMeta(bad); err == nil {
			t.Errorf("decodeMeta(%q): no error", bad)
		}
	}
}

// Commit metadata is written by whatever committed for the group last.
func FuzzDecodeMeta(f *testing.F) {
	for _, s := range []string{"a1;1234567890123;", "a1;1;1+0,2z+5", "a1;x;", "other", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, meta string) {
		since, err := decodeMeta(meta)
		if err == nil && !since.IsZero() {
			if again, err := decodeMeta(encodeMeta(since)); err != nil || !again.Equal(since) {
				t.Errorf("%q: since %v does not round-trip: %v %v", meta, since, again, err)
			}
		}
	})
}

// TestTrackerKeepsRecordTimes checks that a record's timestamp comes back
// from done as it went in, at Kafka's millisecond precision, for any value
// a producer may set, and that a record without one stays without one.
func TestTrackerKeepsRecordTimes(t *testing.T) {
	fetched := time.Now()
	times := []time.Time{
		{},
		time.UnixMilli(0),
		time.UnixMilli(-1),
		time.UnixMilli(1_700_000_000_123),
		time.UnixMilli(math.MaxInt64),
		time.UnixMilli(math.MinInt64 + 1),
	}
	var tr tracker
	for i, ts := range times {
		tr.add(int64(i), 1, ts, fetched)
	}
	for i, want := range times {
		got, complete := tr.done(int64(i))
		if !complete {
			t.Fatalf("record %d not complete after its one event", i)
		}
		if got.IsZero() != want.IsZero() || !got.Equal(want) {
			t.Errorf("record %d: timestamp %v, want %v", i, got, want)
		}
	}
}
