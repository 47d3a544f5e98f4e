package alerts

import (
	"errors"
	"time"
)

// ErrLeaseLost is returned by a Queue when a job's lease expired and the
// job went to another worker: the caller must not report on it any more.
var ErrLeaseLost = errors.New("job lease lost")

// UnreadableJobError is returned by a Queue's Claim for a job it could not
// read: sealed under another pseudonym key (the key was changed while jobs
// waited), or not a job at all. Such a job cannot be carried out by any
// worker, so the queue has settled it; the caller reports it as failed.
type UnreadableJobError struct {
	Member string // the job's name in the queue (its id, or the id's pseudonym)
	Kind   string
	Err    error
}

func (e *UnreadableJobError) Error() string {
	return "job " + e.Member + " (" + e.Kind + ") cannot be read and was dropped: " + e.Err.Error()
}

func (e *UnreadableJobError) Unwrap() error { return e.Err }

// RetryAfter returns how long the provider asked to be left alone, when an
// error in err's chain carries that (an HTTP 429 or 503 with Retry-After).
// The retry stage waits at least that long.
func RetryAfter(err error) (time.Duration, bool) {
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) {
		if d := ra.RetryAfter(); d > 0 {
			return d, true
		}
	}
	return 0, false
}
