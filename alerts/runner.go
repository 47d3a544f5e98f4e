package alerts

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
)

// RunnerOptions wire a Runner.
type RunnerOptions struct {
	Queue        Queue
	Integrations []Integration
	Retrier      *Retrier
	Audit        Auditor
	Log          *zap.Logger
	// Workers is how many jobs run at once (default 4 here; the config's
	// hooks.workers defaults to 8), revocations
	// before deliveries. RevokeWorkers more (default 2) take only
	// revocations, so that a sink that hangs or a backlog of alerts never
	// leaves a revocation waiting for a free worker.
	Workers       int
	RevokeWorkers int
	// Lease is how long a claimed job is held before another worker may
	// take it; workers extend it while they work (default 1m).
	Lease time.Duration
	// MaxAge gives up on a job this long after its decision (default 24h):
	// by then a person has acted or must.
	MaxAge time.Duration
	// DryRun logs and audits what each revocation would send instead of
	// sending it. Sinks still deliver.
	DryRun bool
	Now    func() time.Time // nil: time.Now
}

// Runner takes jobs from the queue and carries them out, each call through
// the retry stage, each outcome audited.
type Runner struct {
	o       RunnerOptions
	targets map[string]Integration
}

// NewRunner checks the options and returns a runner; Run starts it.
func NewRunner(o RunnerOptions) (*Runner, error) {
	if o.Queue == nil || o.Retrier == nil || o.Log == nil {
		return nil, errors.New("runner needs a queue, a retrier and a logger")
	}
	targets := make(map[string]Integration, len(o.Integrations))
	for _, in := range o.Integrations {
		if _, dup := targets[in.Name]; dup || in.Name == "" {
			return nil, fmt.Errorf("integration name %q is empty or used twice", in.Name)
		}
		targets[in.Name] = in
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.RevokeWorkers <= 0 {
		o.RevokeWorkers = 2
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Audit == nil {
		o.Audit = AuditFunc(func(AuditRecord) {})
	}
	return &Runner{o: o, targets: targets}, nil
}

// Run works until ctx is done, then waits for its workers and returns nil.
// A job interrupted by the cancel goes back to the queue, due at once, so
// the next run (or another instance) resumes it.
func (r *Runner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range r.o.Workers {
		wg.Go(func() { r.work(ctx, AllKinds()) })
	}
	for range r.o.RevokeWorkers {
		wg.Go(func() { r.work(ctx, []string{KindRevoke}) })
	}
	wg.Wait()
	return nil
}

func (r *Runner) work(ctx context.Context, kinds []string) {
	for ctx.Err() == nil {
		j, err := r.o.Queue.Claim(ctx, r.o.Lease, kinds...)
		var unreadable *UnreadableJobError
		if errors.As(err, &unreadable) {
			r.dropped(unreadable)
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.o.Log.Warn("claiming a job", zap.Error(err))
			if sleepCtx(ctx, time.Second) != nil {
				return
			}
			continue
		}
		r.handle(ctx, j)
	}
}

// dropped reports a job the queue could not read and settled: an error
// line, and a failed record in the audit log, whose reader would otherwise
// never learn of a revocation that was decided and not carried out.
func (r *Runner) dropped(e *UnreadableJobError) {
	r.o.Log.Error("a queued job cannot be read and was dropped (was the pseudonym key changed?)",
		zap.String("job", e.Member), zap.String("kind", e.Kind), zap.Error(e.Err))
	rec := AuditRecord{Time: r.o.Now(), Event: AuditNotify, Outcome: OutcomeFailed, Reason: ReasonUnreadable,
		Detail: "queued job " + e.Member, Error: e.Err.Error()}
	if e.Kind == KindRevoke {
		rec.Event = AuditRevoke
	}
	r.o.Audit.Audit(rec)
}

// handle carries out one claimed job and settles it.
func (r *Runner) handle(ctx context.Context, j Job) {
	now := r.o.Now()
	rec := AuditRecord{Event: AuditNotify, AlertID: j.Alert.ID, Rule: j.Alert.Rule, User: j.Alert.User,
		Tenant: j.Alert.Tenant, Target: j.Target, Attempts: j.Attempts}
	if j.Kind == KindRevoke {
		rec.Event, rec.User = AuditRevoke, j.User
	}
	in, ok := r.targets[j.Target]
	switch {
	case !ok || (j.Kind == KindRevoke && in.Revoker == nil) || (j.Kind == KindNotify && in.Notifier == nil):
		// Configured before a restart, gone now: nothing can carry it out.
		rec.Outcome, rec.Reason = OutcomeFailed, "integration not configured"
		r.settle(ctx, j, rec, now, nil)
		return
	case now.Sub(j.Decided) > r.o.MaxAge:
		rec.Outcome, rec.Reason = OutcomeExpired, fmt.Sprintf("older than max_age %s", r.o.MaxAge)
		r.settle(ctx, j, rec, now, nil)
		return
	case j.Kind == KindRevoke && r.o.DryRun:
		rec.Outcome, rec.Reason = OutcomeDryRun, "dry_run"
		if d, ok := in.Revoker.(Describer); ok {
			rec.Detail = d.Describe(j.User)
		}
		r.o.Log.Info("dry run: would revoke sessions", zap.String("integration", j.Target),
			zap.String("user", j.User), zap.String("alert_id", j.Alert.ID), zap.String("request", rec.Detail))
		r.settle(ctx, j, rec, now, nil)
		return
	}

	stopExtend := r.keepLease(ctx, j)
	res := r.o.Retrier.Do(ctx, j.Target, func(actx context.Context) (bool, error) {
		if j.Kind == KindRevoke {
			return in.Revoker.Revoke(actx, j.User, j.Alert)
		}
		return in.Notifier.Notify(actx, j.Alert)
	})
	stopExtend()
	rec.Attempts = j.Attempts - 1 + res.Attempts
	done := r.o.Now()
	switch {
	case res.Err == nil:
		rec.Outcome = OutcomeDone
		rec.LatencyMS = float64(done.Sub(j.Decided).Microseconds()) / 1000
	case res.Retry:
		rec.Outcome, rec.Error = OutcomeRetrying, res.Err.Error()
		r.settle(ctx, j, rec, done, &res)
		return
	default:
		rec.Outcome, rec.Error = OutcomeFailed, res.Err.Error()
	}
	r.settle(ctx, j, rec, done, nil)
}

// settle records the outcome and tells the queue: Done, or Retry when
// retry is given. It uses a context of its own, so that a job interrupted
// by shutdown is still handed back.
func (r *Runner) settle(ctx context.Context, j Job, rec AuditRecord, now time.Time, retry *Result) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var err error
	if retry != nil {
		due := now.Add(retry.Wait)
		if ctx.Err() != nil {
			due = now // shutting down: the next run may resume it at once
			rec.Reason = "interrupted by shutdown"
		}
		err = r.o.Queue.Retry(sctx, j, due)
	} else {
		err = r.o.Queue.Done(sctx, j)
	}
	if errors.Is(err, ErrLeaseLost) {
		// Another worker has it now (this one was too slow to extend its
		// lease); that worker's record is the one that counts.
		r.o.Log.Warn("job lease lost while working on it", zap.String("job", j.ID))
		return
	}
	if err != nil {
		r.o.Log.Error("settling job; it will be handed out again when its lease expires",
			zap.String("job", j.ID), zap.Error(err))
	}
	rec.Time = now
	r.o.Audit.Audit(rec)
}

// keepLease extends j's lease every third of its length until stop is
// called, so that a slow provider does not get the job handed out twice.
func (r *Runner) keepLease(ctx context.Context, j Job) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(r.o.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := r.o.Queue.Extend(ctx, j, r.o.Lease); err != nil && ctx.Err() == nil {
					r.o.Log.Warn("extending job lease", zap.String("job", j.ID), zap.Error(err))
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}
