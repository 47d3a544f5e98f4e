// Package alerts delivers the detector's decisions: alert lines for the SOC's
// feeds and revocation hooks that end an attacker's sessions.
//
// Integrations are small: a Notifier delivers an alert, a Revoker ends an
// account's sessions, and each says whether a failure is worth retrying.
// Everything that must hold for all of them lives here, once: the
// Dispatcher turns a decision into durable jobs (idempotent by alert id)
// after the safety limits had their say, the Runner takes jobs from the
// Queue and puts every call through one retry stage, and each action taken
// or skipped leaves an AuditRecord. Provider packages live beside this one
// (alerts/graph, alerts/okta, ...) and are wired together by cmd/atod.
package alerts

import (
	"context"

	"github.com/atod-project/atod/detector"
)

// Notifier delivers one alert. It blocks until the alert is delivered or
// ctx is cancelled. retry tells a retry stage whether a failure is worth
// trying again (a timeout, a 5xx) or permanent (a rejected request).
type Notifier interface {
	Notify(ctx context.Context, a detector.Alert) (retry bool, err error)
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, a detector.Alert) (bool, error)

// Notify implements Notifier.
func (f NotifierFunc) Notify(ctx context.Context, a detector.Alert) (bool, error) { return f(ctx, a) }

// Revoker ends every session of user at one identity provider or mail
// server; a is the decision that asked for it. It blocks until the
// provider answered or ctx is done, when it returns ctx's error with retry
// true. A Revoker is called again after a retryable failure, so each call
// must be safe to repeat: revoking sessions twice ends nothing more.
type Revoker interface {
	Revoke(ctx context.Context, user string, a detector.Alert) (retry bool, err error)
}

// RevokerFunc adapts a function to Revoker.
type RevokerFunc func(ctx context.Context, user string, a detector.Alert) (bool, error)

// Revoke implements Revoker.
func (f RevokerFunc) Revoke(ctx context.Context, user string, a detector.Alert) (bool, error) {
	return f(ctx, user, a)
}

// Describer is implemented by integrations that can say, without doing it,
// what a revocation would send; dry_run writes that into the audit record.
type Describer interface {
	Describe(user string) string
}

// Integration is one named target of the Runner: a sink, a hook, or both
// (a webhook can be either). Name appears in job ids, logs and audit
// records, so it must stay the same across restarts.
type Integration struct {
	Name     string
	Notifier Notifier // nil: not a sink
	Revoker  Revoker  // nil: not a revocation hook
}
