package alerts

import (
	"context"
	"time"

	"github.com/atod-project/atod/detector"
)

// Job kinds.
const (
	KindNotify = "notify" // deliver the alert to a sink
	KindRevoke = "revoke" // end the user's sessions at a hook
)

// AllKinds lists the job kinds, revocations first: they are what must not
// wait behind a backlog of deliveries.
func AllKinds() []string { return []string{KindRevoke, KindNotify} }

// Job is one delivery or revocation, as kept in the durable queue.
type Job struct {
	// ID is JobID of the alert, kind, target and user: the same decision
	// always gives the same id, which is what makes enqueueing idempotent.
	ID     string         `json:"id"`
	Kind   string         `json:"kind"`
	Target string         `json:"target"`
	User   string         `json:"user,omitempty"`
	Alert  detector.Alert `json:"alert"`
	// Decided is the wall-clock time the decision was taken, for the
	// latency figure and the maximum age of a job.
	Decided time.Time `json:"decided"`
	// Attempts counts the times the queue handed the job out, this one
	// included; the Queue sets it.
	Attempts int `json:"attempts"`
	// Lease identifies the worker's hold on the job; the Queue sets it on
	// Claim and checks it on Done, Retry and Extend.
	Lease string `json:"-"`
}

// JobID is the id of the job that carries out kind at target for the
// alert (and user, for a revocation).
func JobID(alertID, kind, target, user string) string {
	id := alertID + "/" + kind + "/" + target
	if user != "" {
		id += "/" + user
	}
	return id
}

// Queue keeps jobs until they are done, across restarts where the
// implementation is durable (Redis), so that a crash or a provider's
// outage loses nothing. Several workers, in one process or several, may
// claim from one queue; a job is leased to one of them at a time, and a
// lease that is neither extended nor settled expires and the job is handed
// out again. All methods are safe for concurrent use.
type Queue interface {
	// Enqueue stores j, due at once, unless a job with j.ID was stored
	// before (pending or done within the queue's memory of done jobs); it
	// reports whether j was added.
	Enqueue(ctx context.Context, j Job) (added bool, err error)
	// Claim blocks until a job of one of kinds is due, then leases it to
	// the caller for lease. Kinds are in order of preference: a due job
	// of the first kind is handed out before any of the second. It
	// returns ctx's error when ctx is done.
	Claim(ctx context.Context, lease time.Duration, kinds ...string) (Job, error)
	// Extend renews the lease of a job still being worked on.
	Extend(ctx context.Context, j Job, lease time.Duration) error
	// Done settles a job for good, delivered or failed permanently; its id
	// is remembered so that the same decision is not carried out again.
	Done(ctx context.Context, j Job) error
	// Retry puts the job back, due at the given time.
	Retry(ctx context.Context, j Job, due time.Time) error
}

// Admission is what the safety limits decided about one revocation.
type Admission struct {
	// Verdict is VerdictAllowed, VerdictCooldown or VerdictRateLimited.
	Verdict string
	// Duplicate is set when the decision was admitted before (the same
	// alert handled twice): Verdict is then that earlier verdict.
	Duplicate bool
	// Tripped is set on the first refusal of a window: the moment to raise
	// the critical alert, once for all instances. It is set again when that
	// same decision comes back as a Duplicate, so that a call that failed
	// before the alert was queued queues it on its retry.
	Tripped bool
}

// Verdicts of the safety limits.
const (
	VerdictAllowed     = "allowed"
	VerdictCooldown    = "cooldown"
	VerdictRateLimited = "rate_limit"
)

// AdmitRequest asks the Ledger to admit one revocation decision.
type AdmitRequest struct {
	Decision string // the alert id: the same decision is admitted once
	Tenant   string
	User     string
	Now      time.Time
	// Max revocations per Window across the tenant, and the Cooldown
	// during which an account just revoked is not revoked again.
	Max      int
	Window   time.Duration
	Cooldown time.Duration
}

// Ledger keeps the state behind the safety limits where every instance
// sees it, and decides atomically, so that two instances cannot both take
// the last revocation of a window. Admit blocks on the store only.
type Ledger interface {
	Admit(ctx context.Context, r AdmitRequest) (Admission, error)
}
