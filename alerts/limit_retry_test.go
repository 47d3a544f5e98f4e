package alerts_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/queue"
	"github.com/atod-project/atod/alerts/queue/redistest"
)

// flakyQueue fails the first enqueue of the revocation limit's alert, as
// a Redis that drops the connection (or a process that dies) between the
// ledger's verdict and the enqueue would; it records what it stores.
type flakyQueue struct {
	alerts.Queue
	mu     sync.Mutex
	failed bool
	stored []alerts.Job
}

func (f *flakyQueue) Enqueue(ctx context.Context, j alerts.Job) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if j.Alert.Rule == "revocation_limit" && !f.failed {
		f.failed = true
		return false, errors.New("connection reset by peer")
	}
	added, err := f.Queue.Enqueue(ctx, j)
	if added {
		f.stored = append(f.stored, j)
	}
	return added, err
}

func (f *flakyQueue) limitJobs() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, j := range f.stored {
		if j.Alert.Rule == "revocation_limit" {
			n++
		}
	}
	return n
}

// Notify promises that calling it again after a failure "completes what
// the failed call left undone". When the enqueue of the revocation limit's
// critical alert fails after the ledger recorded the trip, the retry (or
// the outbox's redelivery after a crash) must still raise that alert:
// otherwise the SOC never learns that atod stopped revoking.
func TestLimitAlertSurvivesAFailedEnqueue(t *testing.T) {
	backends := map[string]func(t *testing.T) (alerts.Queue, alerts.Ledger){
		"memory": func(t *testing.T) (alerts.Queue, alerts.Ledger) {
			q := queue.NewMemory(0, nil)
			return q, q
		},
		"redis": func(t *testing.T) (alerts.Queue, alerts.Ledger) {
			q := redisQueue(t, redistest.Start(t), "limit:")
			return q, q
		},
	}
	for name, newBackend := range backends {
		t.Run(name, func(t *testing.T) {
			q, ledger := newBackend(t)
			fq := &flakyQueue{Queue: q}
			d, err := alerts.NewDispatcher(alerts.DispatcherOptions{Queue: fq, Ledger: ledger, Sinks: []string{"soc"},
				Hooks: []string{"idp"}, LimitSinks: []string{"alerts_topic"},
				Limits: alerts.LimitsConfig{MaxRevocations: 1, Window: time.Hour, Cooldown: time.Hour}, Log: zap.NewNop()})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			notify(t, d, revokeAlert("r1", "anna@example.org"))
			// The second decision is over the limit: the ledger trips, and
			// queueing the critical alert fails.
			if retry, err := d.Notify(ctx, revokeAlert("r2", "bob@example.org")); err == nil || !retry {
				t.Fatalf("Notify with a failing queue: retry=%v err=%v; want a retryable error", retry, err)
			}
			// The caller retries, as it is told to.
			notify(t, d, revokeAlert("r2", "bob@example.org"))
			// And later decisions in the same window are refused as well.
			notify(t, d, revokeAlert("r3", "carl@example.org"))
			if n := fq.limitJobs(); n == 0 {
				t.Fatal("the revocation limit tripped but its critical alert was never queued: " +
					"the retry of the failed Notify saw a duplicate decision without Tripped")
			}
		})
	}
}
