package alerts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest"
)

// LimitsConfig is hooks.limits: the safety limits on revocations. A
// detector that goes wrong (a bad rule, a poisoned GeoIP database) must
// not sign out the whole company.
type LimitsConfig struct {
	// MaxRevocations per Window across a tenant; beyond it atod stops
	// revoking, raises a critical alert and keeps alerting.
	MaxRevocations int           `yaml:"max_revocations"`
	Window         time.Duration `yaml:"window"`
	// Cooldown is how long an account just revoked is not revoked again:
	// one incident often yields several decisions, and a user who signs
	// in again after a revocation should not be thrown out in a loop.
	Cooldown time.Duration `yaml:"cooldown"`
	// NeverRevoke lists break-glass accounts, never revoked whatever the
	// detector says: exact names or path.Match patterns
	// ("breakglass-*@example.org"), compared case-insensitively.
	NeverRevoke []string `yaml:"never_revoke"`
}

// DefaultLimitsConfig returns the defaults: 10 revocations per 10 minutes,
// an hour's cooldown.
func DefaultLimitsConfig() LimitsConfig {
	return LimitsConfig{MaxRevocations: 10, Window: 10 * time.Minute, Cooldown: time.Hour}
}

// Validate checks the values; messages name the keys under hooks.limits.
func (c LimitsConfig) Validate() error {
	var errs []error
	if c.MaxRevocations < 1 {
		errs = append(errs, fmt.Errorf("limits.max_revocations: must be at least 1, got %d", c.MaxRevocations))
	}
	if c.Window <= 0 {
		errs = append(errs, fmt.Errorf("limits.window: must be positive, got %s", c.Window))
	}
	if c.Cooldown < 0 {
		errs = append(errs, fmt.Errorf("limits.cooldown: must not be negative, got %s", c.Cooldown))
	}
	for i, p := range c.NeverRevoke {
		if strings.TrimSpace(p) == "" {
			errs = append(errs, fmt.Errorf("limits.never_revoke[%d]: empty entry", i))
		} else if _, err := path.Match(strings.ToLower(p), ""); err != nil {
			errs = append(errs, fmt.Errorf("limits.never_revoke[%d] %q: %w", i, p, err))
		}
	}
	return errors.Join(errs...)
}

// neverRevoke reports whether user matches an entry of the list.
func (c LimitsConfig) neverRevoke(user string) bool {
	user = ingest.FoldUser(user) // as events spell it
	for _, p := range c.NeverRevoke {
		if ok, _ := path.Match(ingest.FoldUser(p), user); ok {
			return true
		}
	}
	return false
}

// DispatcherOptions wire a Dispatcher.
type DispatcherOptions struct {
	Queue  Queue
	Ledger Ledger
	// Sinks and Hooks are the names of the integrations (see Integration)
	// that receive every alert and every admitted revocation.
	Sinks, Hooks []string
	// LimitSinks receive only the alert the revocation limit raises:
	// atod's own alert output (run's alerts topic, follow mode's stdout,
	// replay's alert lines), which the detector's alerts reach by their
	// own path, so that where the SOC reads alerts says atod stopped
	// revoking.
	LimitSinks []string
	Limits     LimitsConfig
	Audit      Auditor
	Log        *zap.Logger
	Now        func() time.Time // nil: time.Now
}

// Dispatcher turns the detector's alerts into jobs: one per sink for every
// alert, and, for a revoke_sessions decision the safety limits admit, one
// per revocation hook. It is the Notifier the detector's output goes to.
// Enqueueing is idempotent by alert id, so handling an alert twice (a
// restart before an offset commit, a second instance) does nothing twice.
type Dispatcher struct {
	o DispatcherOptions
}

var _ Notifier = (*Dispatcher)(nil)

// NewDispatcher checks the options and returns a dispatcher.
func NewDispatcher(o DispatcherOptions) (*Dispatcher, error) {
	if o.Queue == nil || (len(o.Hooks) > 0 && o.Ledger == nil) {
		return nil, errors.New("dispatcher needs a queue, and a ledger when hooks are configured")
	}
	if err := o.Limits.Validate(); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Audit == nil {
		o.Audit = AuditFunc(func(AuditRecord) {})
	}
	return &Dispatcher{o: o}, nil
}

// Notify implements Notifier. It returns retry true when the queue or
// ledger could not be reached; calling it again with the same alert is
// safe and completes what the failed call left undone.
func (d *Dispatcher) Notify(ctx context.Context, a detector.Alert) (bool, error) {
	now := d.o.Now()
	if err := d.enqueueSinks(ctx, a, now); err != nil {
		return true, err
	}
	if a.Action != detector.ActionRevoke {
		return false, nil
	}
	return d.revoke(ctx, a, now)
}

func (d *Dispatcher) enqueueSinks(ctx context.Context, a detector.Alert, now time.Time) error {
	return d.enqueueTo(ctx, d.o.Sinks, a, now)
}

func (d *Dispatcher) enqueueTo(ctx context.Context, sinks []string, a detector.Alert, now time.Time) error {
	for _, s := range sinks {
		j := Job{ID: JobID(a.ID, KindNotify, s, ""), Kind: KindNotify, Target: s, Alert: a, Decided: now}
		if _, err := d.o.Queue.Enqueue(ctx, j); err != nil {
			return fmt.Errorf("queueing alert %s for %s: %w", a.ID, s, err)
		}
	}
	return nil
}

func (d *Dispatcher) revoke(ctx context.Context, a detector.Alert, now time.Time) (bool, error) {
	rec := AuditRecord{Time: now, Event: AuditDecision, AlertID: a.ID, Rule: a.Rule, User: a.User, Tenant: a.Tenant}
	skip := func(reason string) (bool, error) {
		rec.Outcome, rec.Reason = OutcomeSkipped, reason
		d.o.Audit.Audit(rec)
		return false, nil
	}
	switch {
	case len(d.o.Hooks) == 0:
		return skip(ReasonNoHooks)
	case strings.TrimSpace(a.User) == "":
		return skip(ReasonNoAccount)
	case d.o.Limits.neverRevoke(a.User):
		d.o.Log.Warn("revocation skipped: account is on the never-revoke list",
			zap.String("user", a.User), zap.String("alert_id", a.ID), zap.String("rule", a.Rule))
		return skip(ReasonNeverRevoke)
	}
	lim := d.o.Limits
	adm, err := d.o.Ledger.Admit(ctx, AdmitRequest{Decision: a.ID, Tenant: a.Tenant, User: a.User, Now: now,
		Max: lim.MaxRevocations, Window: lim.Window, Cooldown: lim.Cooldown})
	if err != nil {
		return true, fmt.Errorf("admitting revocation of %s for alert %s: %w", a.User, a.ID, err)
	}
	if adm.Verdict != VerdictAllowed {
		if adm.Tripped {
			// Also for a duplicate: the call that tripped may have failed
			// to queue the alert below (its jobs are idempotent).
			if !adm.Duplicate {
				d.o.Log.Error("revocation limit reached: atod stops revoking until the window has room",
					zap.String("tenant", a.Tenant), zap.Int("max_revocations", lim.MaxRevocations),
					zap.Duration("window", lim.Window), zap.String("user", a.User), zap.String("alert_id", a.ID))
			}
			la := limitAlert(a, lim, now)
			if err := d.enqueueSinks(ctx, la, now); err != nil {
				return true, err
			}
			if err := d.enqueueTo(ctx, d.o.LimitSinks, la, now); err != nil {
				return true, err
			}
		}
		if adm.Duplicate {
			rec.Detail = "decision seen before"
		}
		return skip(adm.Verdict)
	}
	added := false
	for _, h := range d.o.Hooks {
		j := Job{ID: JobID(a.ID, KindRevoke, h, a.User), Kind: KindRevoke, Target: h, User: a.User, Alert: a, Decided: now}
		ok, err := d.o.Queue.Enqueue(ctx, j)
		if err != nil {
			return true, fmt.Errorf("queueing revocation of %s at %s: %w", a.User, h, err)
		}
		added = added || ok
	}
	if adm.Duplicate && !added {
		return skip(ReasonDuplicate)
	}
	rec.Outcome = OutcomeQueued
	rec.Detail = "hooks: " + strings.Join(d.o.Hooks, ", ")
	d.o.Audit.Audit(rec)
	return false, nil
}

// limitAlert is the critical alert raised when the revocation limit stops
// a revocation. Its id derives from the refused decision, and the ledger
// reports a trip once per window, so every instance raises the same one.
func limitAlert(a detector.Alert, lim LimitsConfig, now time.Time) detector.Alert {
	sum := sha256.Sum256([]byte("revocation_limit\x00" + a.Tenant + "\x00" + a.ID))
	tenant := ""
	if a.Tenant != "" {
		tenant = " for tenant " + a.Tenant
	}
	return detector.Alert{
		ID: hex.EncodeToString(sum[:16]), Time: a.Time, Rule: "revocation_limit", User: a.User, IP: a.IP,
		Score: 100, Severity: detector.SeverityCritical, Action: detector.ActionAlert, Tenant: a.Tenant,
		Reasons: []string{fmt.Sprintf("atod decided to revoke more than %d accounts within %s%s and stopped revoking; "+
			"%s was not revoked. Alerts continue. Look for an attack on many accounts, or a detection gone wrong.",
			lim.MaxRevocations, lim.Window, tenant, a.User)},
		Evidence:   []string{a.ID},
		DetectedAt: &now,
	}
}
