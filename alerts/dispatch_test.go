package alerts_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/queue"
	"github.com/atod-project/atod/detector"
)

func TestSafetyLimits(t *testing.T) {
	p := newProvider(t, nil)
	q := queue.NewMemory(0, nil)
	au, soc, topic := &audits{}, &sink{}, &sink{}
	d, _ := start(t, setup{queue: q, ledger: q, audit: au, sinks: map[string]alerts.Notifier{"soc": soc},
		limit: map[string]alerts.Notifier{"alerts_topic": topic}, hooks: map[string]alerts.Revoker{"idp": p.revoker(t)},
		limits: alerts.LimitsConfig{MaxRevocations: 2, Window: time.Hour, Cooldown: time.Hour,
			NeverRevoke: []string{"breakglass-*@example.org"}}})

	notify(t, d, revokeAlert("r0", "BreakGlass-1@example.org")) // never revoked
	notify(t, d, revokeAlert("r1", "anna@example.org"))
	notify(t, d, revokeAlert("r1", "anna@example.org")) // the same decision again: nothing twice
	notify(t, d, revokeAlert("r2", "anna@example.org")) // cooldown
	notify(t, d, revokeAlert("r3", "bob@example.org"))
	for i, u := range []string{"carl", "dora", "erik"} { // over the limit
		notify(t, d, revokeAlert("r"+string(rune('4'+i)), u+"@example.org"))
	}
	notify(t, d, detector.Alert{ID: "plain", Rule: "new_location", Action: detector.ActionAlert})

	waitFor(t, "revocations", func() bool { return au.count(alerts.AuditRevoke, alerts.OutcomeDone, "") == 2 })
	// Every alert reaches the SOC, the seven revocation alerts too: wait for
	// all nine, not only for the three rules.
	waitFor(t, "sink deliveries", func() bool { return soc.delivered() == 9 })
	if p.revocations("anna@example.org") != 1 || p.revocations("bob@example.org") != 1 || p.total() != 2 {
		t.Errorf("provider saw %v", p.revoked)
	}
	for _, c := range []struct {
		reason string
		n      int
	}{{alerts.ReasonNeverRevoke, 1}, {alerts.ReasonCooldown, 1}, {alerts.ReasonRateLimit, 3}, {alerts.ReasonDuplicate, 1}} {
		if got := au.count(alerts.AuditDecision, alerts.OutcomeSkipped, c.reason); got != c.n {
			t.Errorf("skipped for %s: %d, want %d\n%s", c.reason, got, c.n, au)
		}
	}
	// Every alert still reaches the SOC, and the limit raised exactly one
	// critical alert.
	rules := soc.rules()
	if rules["compromise_after_attack"] != 7 || rules["new_location"] != 1 || rules["revocation_limit"] != 1 {
		t.Errorf("SOC got %v", rules)
	}
	for _, a := range soc.alerts() {
		if a.Rule == "revocation_limit" && (a.Severity != detector.SeverityCritical || !strings.Contains(a.Reasons[0], "stopped revoking")) {
			t.Errorf("limit alert %+v", a)
		}
	}
	// The alerts topic (a limit sink) gets the limit's alert, and nothing
	// else: the detector's alerts reach it by their own path.
	waitFor(t, "the limit alert on the alerts topic", func() bool { return topic.delivered() >= 1 })
	if got := topic.rules(); len(got) != 1 || got["revocation_limit"] != 1 {
		t.Errorf("the limit sink got %v; want the revocation_limit alert alone", got)
	}
}

func TestDryRunRevokesNothing(t *testing.T) {
	p := newProvider(t, nil)
	q := queue.NewMemory(0, nil)
	au := &audits{}
	d, _ := start(t, setup{queue: q, ledger: q, audit: au, dryRun: true, hooks: map[string]alerts.Revoker{"idp": p.revoker(t)}})
	notify(t, d, revokeAlert("r1", "anna@example.org"))
	waitFor(t, "dry run record", func() bool { return au.count(alerts.AuditRevoke, alerts.OutcomeDryRun, "") == 1 })
	if p.calls.Load() != 0 {
		t.Fatal("dry run called the provider")
	}
	au.mu.Lock()
	defer au.mu.Unlock()
	for _, r := range au.recs {
		if r.Outcome == alerts.OutcomeDryRun && !strings.Contains(r.Detail, `"user":"anna@example.org"`) {
			t.Errorf("dry run detail %q", r.Detail)
		}
	}
}

func TestProviderDownThenBack(t *testing.T) {
	p := newProvider(t, func(n int64, w http.ResponseWriter) bool {
		if n <= 12 { // several rounds of the retry stage, each ending back in the queue
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	q := queue.NewMemory(0, nil)
	au := &audits{}
	d, _ := start(t, setup{queue: q, ledger: q, audit: au, hooks: map[string]alerts.Revoker{"idp": p.revoker(t)}})
	notify(t, d, revokeAlert("r1", "anna@example.org"))
	waitFor(t, "revocation", func() bool { return au.count(alerts.AuditRevoke, alerts.OutcomeDone, "") == 1 })
	if p.revocations("anna@example.org") != 1 || au.count(alerts.AuditRevoke, alerts.OutcomeRetrying, "") == 0 {
		t.Fatalf("revocations %d\n%s", p.revocations("anna@example.org"), au)
	}
}

func TestRejectedRevocationIsNotRetried(t *testing.T) {
	p := newProvider(t, func(_ int64, w http.ResponseWriter) bool { w.WriteHeader(http.StatusForbidden); return true })
	q := queue.NewMemory(0, nil)
	au := &audits{}
	d, _ := start(t, setup{queue: q, ledger: q, audit: au, hooks: map[string]alerts.Revoker{"idp": p.revoker(t)}})
	notify(t, d, revokeAlert("r1", "anna@example.org"))
	waitFor(t, "failure record", func() bool { return au.count(alerts.AuditRevoke, alerts.OutcomeFailed, "") == 1 })
	waitFor(t, "queue to settle", func() bool { return q.Pending() == 0 })
	if n := p.calls.Load(); n != 1 {
		t.Fatalf("provider called %d times for a 403", n)
	}
}

func TestSlowProvider(t *testing.T) {
	// The first answer takes longer than an attempt may; the lease is
	// shorter still, so the worker must keep extending it.
	release := make(chan struct{})
	p := newProvider(t, func(n int64, w http.ResponseWriter) bool {
		if n == 1 {
			<-release
			w.WriteHeader(http.StatusGatewayTimeout)
			return true
		}
		return false
	})
	q := queue.NewMemory(0, nil)
	au := &audits{}
	d, _ := start(t, setup{queue: q, ledger: q, audit: au, lease: 60 * time.Millisecond, workers: 4,
		hooks: map[string]alerts.Revoker{"idp": p.revoker(t)}})
	notify(t, d, revokeAlert("r1", "anna@example.org"))
	waitFor(t, "revocation", func() bool { return au.count(alerts.AuditRevoke, alerts.OutcomeDone, "") == 1 })
	close(release)
	waitFor(t, "queue to settle", func() bool { return q.Pending() == 0 })
	if p.revocations("anna@example.org") != 1 || au.count(alerts.AuditRevoke, alerts.OutcomeDone, "") != 1 {
		t.Fatalf("revocations %d\n%s", p.revocations("anna@example.org"), au)
	}
}

func TestNoAccountOrNoHooks(t *testing.T) {
	q := queue.NewMemory(0, nil)
	au := &audits{}
	d, _ := start(t, setup{queue: q, ledger: q, audit: au, sinks: map[string]alerts.Notifier{"soc": &sink{}}})
	notify(t, d, revokeAlert("r1", "anna@example.org"))
	if au.count(alerts.AuditDecision, alerts.OutcomeSkipped, alerts.ReasonNoHooks) != 1 {
		t.Errorf("no hooks:\n%s", au)
	}
	p := newProvider(t, nil)
	d2, _ := start(t, setup{queue: q, ledger: q, audit: au, hooks: map[string]alerts.Revoker{"idp": p.revoker(t)}})
	notify(t, d2, revokeAlert("r2", ""))
	if au.count(alerts.AuditDecision, alerts.OutcomeSkipped, alerts.ReasonNoAccount) != 1 {
		t.Errorf("no account:\n%s", au)
	}
}
