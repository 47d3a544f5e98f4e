package alerts_test

import (
	"context"
	"testing"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/queue/redistest"
)

// A revocation queued under one pseudonym key and claimed after the key
// changed can never be carried out: the runner reports it once, as a
// failed revocation in the audit log, and goes on with the rest.
func TestRunnerReportsAnUnreadableJob(t *testing.T) {
	srv := redistest.Start(t)
	before := redisQueue(t, srv, "unreadable:")
	before.SealWith([]byte("0123456789abcdef0123456789abcdef"))
	lost := revokeAlert("r1", "anna@example.org")
	if _, err := before.Enqueue(context.Background(), alerts.Job{ID: alerts.JobID(lost.ID, alerts.KindRevoke, "idp", lost.User),
		Kind: alerts.KindRevoke, Target: "idp", User: lost.User, Alert: lost}); err != nil {
		t.Fatal(err)
	}

	q := redisQueue(t, srv, "unreadable:")
	q.SealWith([]byte("fedcba9876543210fedcba9876543210"))
	soc, audit := &sink{}, &audits{}
	d, _ := start(t, setup{queue: q, ledger: q, sinks: map[string]alerts.Notifier{"soc": soc}, audit: audit})
	notify(t, d, revokeAlert("n1", "bob@example.org"))
	waitFor(t, "the unreadable job's audit record and the next alert", func() bool {
		return audit.count(alerts.AuditRevoke, alerts.OutcomeFailed, alerts.ReasonUnreadable) == 1 && soc.delivered() == 1
	})
}
