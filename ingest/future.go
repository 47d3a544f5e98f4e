package ingest

import (
	"fmt"
	"time"
)

// DefaultMaxFuture is how far ahead of the clock the live sources take an
// event's time by default (kafka.max_future, follow.max_future). A source
// whose clock runs further ahead would carry its events' time with it:
// every later event of its partition would count as late, and memory
// state, which expires on the newest event time, would expire at once.
// Replay has no such limit: its answers must not depend on when it runs.
const DefaultMaxFuture = 24 * time.Hour

// TooFarAhead returns an error naming t when it lies more than max ahead
// of now; a max of 0 or less checks nothing.
func TooFarAhead(t, now time.Time, max time.Duration) error {
	if max > 0 && t.After(now.Add(max)) {
		return fmt.Errorf("event time %s is more than %s ahead of this clock", t.Format(time.RFC3339), max)
	}
	return nil
}
