package kafka

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// tracker follows the records of one partition from fetch to commit. It
// is owned by the session goroutine.
type tracker struct {
	recs []trackedRecord // offset order; recs[head:] are not yet committable
	head int
	next int64 // offset after the last record added
	// ahead counts the handled records in recs[head:], so that a commit
	// does not scan a long tail of held records for none.
	ahead int
	seen  bool // whether any record was added
	// lastFetched is when the last record arrived: with every record
	// handled, anything done later is about records fetched after it.
	lastFetched time.Time
}

type trackedRecord struct {
	offset  int64
	pending int32     // events not yet reported done
	time    time.Time // the record's timestamp, for the latency metric
	fetched time.Time // wall time the record arrived
}

// add notes a record with n events still to be handled; a record with none
// is handled already.
func (t *tracker) add(offset int64, n int, ts, fetched time.Time) {
	t.recs = append(t.recs, trackedRecord{offset: offset, pending: int32(n), time: ts, fetched: fetched})
	if n == 0 {
		t.ahead++
	}
	t.next, t.seen, t.lastFetched = offset+1, true, fetched
}

// done notes that one event of the record at offset was handled. It
// returns the record's timestamp once all of its events are, and false
// for an offset it does not hold (a stale report from before a restart
// of the partition).
func (t *tracker) done(offset int64) (time.Time, bool) {
	live := t.recs[t.head:]
	i := sort.Search(len(live), func(i int) bool { return live[i].offset >= offset })
	if i == len(live) || live[i].offset != offset || live[i].pending <= 0 {
		return time.Time{}, false
	}
	live[i].pending--
	if live[i].pending == 0 {
		t.ahead++
		return live[i].time, true
	}
	return time.Time{}, false
}

// advance drops the handled records at the front.
func (t *tracker) advance() {
	for t.head < len(t.recs) && t.recs[t.head].pending == 0 {
		t.head++
		t.ahead--
	}
	if t.head > 1024 && t.head*2 > len(t.recs) {
		n := copy(t.recs, t.recs[t.head:])
		clear(t.recs[n:])
		t.recs, t.head = t.recs[:n], 0
	}
}

// held reports how many records are not yet committable.
func (t *tracker) held() int { return len(t.recs) - t.head }

// commitPoint returns the offset to commit (the first record not fully
// handled, or the next one to read) and the metadata to commit with it;
// ok is false before any record was read.
func (t *tracker) commitPoint() (offset int64, meta string, ok bool) {
	t.advance()
	if !t.seen {
		// Committing now would only erase what the last commit listed.
		return 0, "", false
	}
	if t.head == len(t.recs) {
		return t.next, encodeMeta(t.lastFetched, t.next, t.doneRanges()), true
	}
	offset = t.recs[t.head].offset
	return offset, encodeMeta(t.recs[t.head].fetched, offset, t.doneRanges()), true
}

// doneRanges lists the runs of handled records past the commit point,
// as many as fit the metadata budget.
func (t *tracker) doneRanges() []offsetRange {
	var out []offsetRange
	for i, found := t.head, 0; i < len(t.recs) && found < t.ahead && len(out) < maxRanges; i++ {
		r := t.recs[i]
		if r.pending != 0 {
			continue
		}
		found++
		if n := len(out); n > 0 && out[n-1].last == t.recs[i-1].offset && t.recs[i-1].pending == 0 {
			out[n-1].last = r.offset
		} else {
			out = append(out, offsetRange{first: r.offset, last: r.offset})
		}
	}
	return out
}

// offsetRange is a run of records, first and last included.
type offsetRange struct{ first, last int64 }

// Brokers refuse commit metadata over offset.metadata.max.bytes (4096
// by default); 300 ranges of a few digits each stay well below. A run
// left out is read and handled again after a crash, as without metadata.
const maxRanges = 300

// metaVersion starts atod's commit metadata:
//
//	a1;SINCE;D+L,D+L,...
//
// SINCE is the wall time (Unix ms) the record at the committed offset was
// fetched; each D+L is a handled run, D its distance from the end of the
// previous run (or from the committed offset) and L its length less one,
// in base 36.
const metaVersion = "a1"

func encodeMeta(since time.Time, offset int64, ranges []offsetRange) string {
	var b strings.Builder
	b.WriteString(metaVersion)
	b.WriteByte(';')
	b.WriteString(strconv.FormatInt(since.UnixMilli(), 10))
	b.WriteByte(';')
	prev := offset
	for i, r := range ranges {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(r.first-prev, 36))
		b.WriteByte('+')
		b.WriteString(strconv.FormatInt(r.last-r.first, 36))
		prev = r.last
	}
	return b.String()
}

// decodeMeta parses what encodeMeta wrote for offset. Metadata of another
// kind (another tool committed for the group) is no error: it just says
// nothing.
func decodeMeta(meta string, offset int64) (since time.Time, ranges []offsetRange, err error) {
	parts := strings.Split(meta, ";")
	if len(parts) != 3 || parts[0] != metaVersion {
		return time.Time{}, nil, nil
	}
	ms, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("commit metadata %q: bad time", meta)
	}
	prev := offset
	for _, f := range strings.Split(parts[2], ",") {
		if f == "" {
			continue
		}
		d, l, ok := strings.Cut(f, "+")
		dist, err1 := strconv.ParseInt(d, 36, 64)
		span, err2 := strconv.ParseInt(l, 36, 64)
		if !ok || err1 != nil || err2 != nil || dist < 0 || span < 0 {
			return time.Time{}, nil, fmt.Errorf("commit metadata %q: bad range %q", meta, f)
		}
		r := offsetRange{first: prev + dist, last: prev + dist + span}
		ranges, prev = append(ranges, r), r.last
	}
	return time.UnixMilli(ms), ranges, nil
}
