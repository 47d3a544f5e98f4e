package kafka

import (
	"reflect"
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
	since, ranges, err := decodeMeta(meta, off)
	if err != nil || !since.Equal(t0) {
		t.Fatalf("metadata %q: since %v err %v", meta, since, err)
	}
	// 12 still waits for one more event: handled are 11, and 14..15.
	want := []offsetRange{{11, 11}, {14, 15}}
	if !reflect.DeepEqual(ranges, want) {
		t.Errorf("ranges %v, want %v (metadata %q)", ranges, want, meta)
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
	if _, ranges, _ := decodeMeta(meta, off); len(ranges) != 0 {
		t.Errorf("ranges %v past a fully handled partition", ranges)
	}
}

func TestMetaRoundTrip(t *testing.T) {
	since := time.UnixMilli(1234567890123)
	ranges := []offsetRange{{101, 101}, {200, 4000}, {4002, 1 << 40}}
	meta := encodeMeta(since, 100, ranges)
	got, gotRanges, err := decodeMeta(meta, 100)
	if err != nil || !got.Equal(since) || !reflect.DeepEqual(gotRanges, ranges) {
		t.Errorf("decode(%q) = %v %v %v", meta, got, gotRanges, err)
	}
	for _, foreign := range []string{"", "some other tool", "a2;1;0+1"} {
		if s, r, err := decodeMeta(foreign, 0); err != nil || !s.IsZero() || r != nil {
			t.Errorf("foreign metadata %q: %v %v %v, want nothing and no error", foreign, s, r, err)
		}
	}
	for _, bad := range []string{"a1;x;", "a1;1;z", "a1;1;1+"} {
		if _, _, err := decodeMeta(bad, 0); err == nil {
			t.Errorf("decodeMeta(%q): no error", bad)
		}
	}
	if n := len(encodeMeta(since, 0, make([]offsetRange, maxRanges))); n > 4096 {
		t.Errorf("metadata of %d ranges is %d bytes, over the brokers' default limit", maxRanges, n)
	}
}
