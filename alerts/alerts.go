// Package alerts delivers the detector's decisions: alert lines for the SOC's
// feeds and, in later stages, revocation hooks that end an attacker's
// sessions. Integrations implement Notifier; the cross-cutting stages
// (deduplication here, retries and rate limits later) wrap any Notifier so
// that no integration re-implements them.
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
