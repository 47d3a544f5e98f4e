package kafka

import (
	"fmt"
	"math"
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

// trackedRecord holds its times as Unix milliseconds, Kafka's own
// precision and all that commitPoint writes: 32 bytes and no pointers,
// where two time.Time made 64 bytes that the collector had to scan, and a
// catch-up batch holds hundreds of thousands of them.
type trackedRecord struct {
	offset  int64
	pending int32 // events not yet reported done
	time    int64 // the record's timestamp (see unixMs), for the latency metric
	fetched int64 // Unix ms when the record arrived
}

// noTime stands for a record without a timestamp.
const noTime = math.MinInt64

// unixMs and fromUnixMs convert a record's timestamp. Any Kafka
// timestamp, a count of milliseconds, survives the round trip.
func unixMs(t time.Time) int64 {
	if t.IsZero() {
		return noTime
	}
	return t.UnixMilli()
}

func fromUnixMs(ms int64) time.Time {
	if ms == noTime {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// add notes a record with n events still to be handled; a record with none
// is handled already.
func (t *tracker) add(offset int64, n int, ts, fetched time.Time) {
	t.recs = append(t.recs, trackedRecord{offset: offset, pending: int32(n), time: unixMs(ts), fetched: fetched.UnixMilli()})
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
		return fromUnixMs(live[i].time), true
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
		// Committing now would only erase what the last commit said.
		return 0, "", false
	}
	if t.head == len(t.recs) {
		return t.next, encodeMeta(t.lastFetched), true
	}
	return t.recs[t.head].offset, encodeMeta(time.UnixMilli(t.recs[t.head].fetched)), true
}

// metaVersion starts atod's commit metadata:
//
//	a1;SINCE;
//
// SINCE is the wall time (Unix ms) the record at the committed offset was
// fetched: how far back the partition's next owner reads the alerts topic
// to know what was published. Earlier versions listed, after the second
// semicolon, the runs of records handled past the committed offset, to be
// skipped; they are read again now (the detector's applied marks keep
// them from counting twice), and such lists are accepted and ignored.
const metaVersion = "a1"

func encodeMeta(since time.Time) string {
	return metaVersion + ";" + strconv.FormatInt(since.UnixMilli(), 10) + ";"
}

// decodeMeta parses what encodeMeta wrote. Metadata of another kind
// (another tool committed for the group) is no error: it just says
// nothing.
func decodeMeta(meta string) (since time.Time, err error) {
	parts := strings.Split(meta, ";")
	if len(parts) != 3 || parts[0] != metaVersion {
		return time.Time{}, nil
	}
	ms, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("commit metadata %q: bad time", meta)
	}
	return time.UnixMilli(ms), nil
}
