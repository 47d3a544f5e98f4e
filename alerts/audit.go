package alerts

import (
	"encoding/json"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Audit events: what the record is about.
const (
	AuditDecision = "decision" // the safety limits' verdict on a revocation
	AuditRevoke   = "revoke"   // one hook's revocation
	AuditNotify   = "notify"   // one sink's delivery
)

// Audit outcomes.
const (
	OutcomeQueued   = "queued"   // admitted and handed to the queue
	OutcomeDone     = "done"     // carried out
	OutcomeFailed   = "failed"   // rejected by the provider; not retried
	OutcomeRetrying = "retrying" // failing for now; back in the queue
	OutcomeSkipped  = "skipped"  // not done on purpose; Reason says why
	OutcomeDryRun   = "dry_run"  // would have been done; Detail says what
	OutcomeExpired  = "expired"  // given up: older than the queue's max_age
)

// Reasons for a skip.
const (
	ReasonNeverRevoke = "never_revoke" // the account is on the never-revoke list
	ReasonCooldown    = VerdictCooldown
	ReasonRateLimit   = VerdictRateLimited
	ReasonDuplicate   = "duplicate"  // the decision was handled before
	ReasonNoAccount   = "no_account" // the alert names no single account
	ReasonNoHooks     = "no_hooks"   // no revocation hook is configured
	// ReasonUnreadable goes with OutcomeFailed: a queued job could not be
	// read (see UnreadableJobError) and was dropped.
	ReasonUnreadable = "unreadable"
)

// AuditRecord is one line of the audit log: every revocation decision,
// every hook's action and every sink delivery, taken or skipped, with why.
// Times are wall clock: the log is about what atod did, not when the
// events happened.
type AuditRecord struct {
	Time     time.Time `json:"time"`
	Event    string    `json:"event"`
	AlertID  string    `json:"alert_id"`
	Rule     string    `json:"rule,omitempty"`
	User     string    `json:"user,omitempty"`
	Tenant   string    `json:"tenant,omitempty"`
	Target   string    `json:"target,omitempty"`
	Outcome  string    `json:"outcome"`
	Reason   string    `json:"reason,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	Attempts int       `json:"attempts,omitempty"`
	Error    string    `json:"error,omitempty"`
	// LatencyMS is the time from the decision to this outcome.
	LatencyMS float64 `json:"latency_ms,omitempty"`
}

// Auditor receives audit records. Audit must not block for long: it is
// called from the workers that carry out revocations.
type Auditor interface {
	Audit(r AuditRecord)
}

// AuditFunc adapts a function to Auditor.
type AuditFunc func(AuditRecord)

// Audit implements Auditor.
func (f AuditFunc) Audit(r AuditRecord) { f(r) }

// Audits fans records out to several auditors (the log and the metric).
func Audits(as ...Auditor) Auditor {
	return AuditFunc(func(r AuditRecord) {
		for _, a := range as {
			if a != nil {
				a.Audit(r)
			}
		}
	})
}

// AuditLog writes each record as one JSON line, unbuffered, so that the
// record of a revocation is on disk when the revocation is. A write error
// is logged, not returned: failing to audit must not stop a revocation.
type AuditLog struct {
	mu  sync.Mutex
	w   io.Writer
	log *zap.Logger
}

// NewAuditLog returns an auditor writing to w (a RotatingFile, stderr).
func NewAuditLog(w io.Writer, log *zap.Logger) *AuditLog { return &AuditLog{w: w, log: log} }

// Audit implements Auditor.
func (l *AuditLog) Audit(r AuditRecord) {
	b, err := json.Marshal(&r)
	if err != nil {
		l.log.Error("encoding audit record", zap.Error(err))
		return
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.w.Write(b); err != nil {
		l.log.Error("writing audit record", zap.Error(err), zap.String("alert_id", r.AlertID), zap.String("outcome", r.Outcome))
	}
}

// AuditCounter is the metric hook: it counts records by event, target,
// outcome and reason, for an exporter to read with Snapshot.
type AuditCounter struct {
	mu     sync.Mutex
	counts map[string]int64
}

// NewAuditCounter returns an empty counter.
func NewAuditCounter() *AuditCounter { return &AuditCounter{counts: make(map[string]int64)} }

// Audit implements Auditor.
func (c *AuditCounter) Audit(r AuditRecord) {
	k := counterKey(r.Event, r.Target, r.Outcome, r.Reason)
	c.mu.Lock()
	c.counts[k]++
	c.mu.Unlock()
}

// Count returns the count of one combination; empty strings match records
// without that field.
func (c *AuditCounter) Count(event, target, outcome, reason string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[counterKey(event, target, outcome, reason)]
}

// Snapshot returns every count, keyed "event,target,outcome,reason", in a
// stable order for printing.
func (c *AuditCounter) Snapshot() []CounterValue {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]CounterValue, 0, len(c.counts))
	for k, v := range c.counts {
		out = append(out, CounterValue{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// CounterValue is one count of a Snapshot.
type CounterValue struct {
	Key   string
	Value int64
}

func counterKey(parts ...string) string { return strings.Join(parts, ",") }
