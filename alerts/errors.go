package alerts

import (
	"errors"
	"time"
)

// ErrLeaseLost is returned by a Queue when a job's lease expired and the
// job went to another worker: the caller must not report on it any more.
var ErrLeaseLost = errors.New("job lease lost")

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
