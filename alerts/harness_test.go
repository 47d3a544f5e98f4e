package alerts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/webhook"
	"github.com/atod-project/atod/detector"
)

// audits collects audit records.
type audits struct {
	mu   sync.Mutex
	recs []alerts.AuditRecord
}

func (a *audits) Audit(r alerts.AuditRecord) {
	a.mu.Lock()
	a.recs = append(a.recs, r)
	a.mu.Unlock()
}

// count returns how many records have the event and outcome (and reason,
// when not empty).
func (a *audits) count(event, outcome, reason string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, r := range a.recs {
		if r.Event == event && r.Outcome == outcome && (reason == "" || r.Reason == reason) {
			n++
		}
	}
	return n
}

func (a *audits) String() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var b strings.Builder
	for _, r := range a.recs {
		fmt.Fprintf(&b, "%s %s %s %s %s %s\n", r.Event, r.Target, r.User, r.Outcome, r.Reason, r.Error)
	}
	return b.String()
}

// sink records delivered alerts.
type sink struct {
	mu  sync.Mutex
	ids []string
	got map[string]detector.Alert
}

func (s *sink) Notify(_ context.Context, a detector.Alert) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.got == nil {
		s.got = map[string]detector.Alert{}
	}
	s.ids = append(s.ids, a.ID)
	s.got[a.ID] = a
	return false, nil
}

// delivered counts the deliveries so far.
func (s *sink) delivered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

// alerts returns the alerts delivered so far, one per id.
func (s *sink) alerts() []detector.Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]detector.Alert, 0, len(s.got))
	for _, a := range s.got {
		out = append(out, a)
	}
	return out
}

func (s *sink) rules() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, id := range s.ids {
		out[s.got[id].Rule]++
	}
	return out
}

// provider is an httptest revocation endpoint whose behaviour a test
// scripts per request; it counts revocations per user.
type provider struct {
	srv     *httptest.Server
	calls   atomic.Int64
	mu      sync.Mutex
	revoked map[string]int
	// answer decides the status of the n-th request (from 1); nil: 204.
	answer func(n int64, w http.ResponseWriter) bool
}

func newProvider(t *testing.T, answer func(n int64, w http.ResponseWriter) bool) *provider {
	p := &provider{revoked: map[string]int{}, answer: answer}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := p.calls.Add(1)
		if p.answer != nil && p.answer(n, w) {
			return
		}
		var body struct{ User string }
		_ = decodeJSON(r, &body)
		p.mu.Lock()
		p.revoked[body.User]++
		p.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) revocations(user string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.revoked[user]
}

func (p *provider) total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, v := range p.revoked {
		n += v
	}
	return n
}

// revoker returns a webhook client for p: a real HTTP revocation hook.
func (p *provider) revoker(t testing.TB) *webhook.Client {
	c, err := webhook.New(webhook.Config{URL: p.srv.URL, SecretEnv: "S", AllowHTTP: true},
		webhook.Options{LookupEnv: func(string) (string, bool) { return "0123456789abcdef", true }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fastRetry keeps fault tests short: the shapes matter, not the seconds.
func fastRetry() alerts.RetryConfig {
	return alerts.RetryConfig{InitialBackoff: 2 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		MaxElapsed: 60 * time.Millisecond, AttemptTimeout: 150 * time.Millisecond, MaxRetryAfter: 50 * time.Millisecond}
}

type setup struct {
	queue   alerts.Queue
	ledger  alerts.Ledger
	limits  alerts.LimitsConfig
	dryRun  bool
	lease   time.Duration
	workers int
	sinks   map[string]alerts.Notifier
	limit   map[string]alerts.Notifier // LimitSinks
	hooks   map[string]alerts.Revoker
	audit   alerts.Auditor
}

// start wires a dispatcher and a runner like cmd/atod does and runs the
// runner until the test ends (or stop is called).
func start(t testing.TB, s setup) (d *alerts.Dispatcher, stop func()) {
	t.Helper()
	log := zap.NewNop()
	if tt, ok := t.(*testing.T); ok && testing.Verbose() {
		log = zaptest.NewLogger(tt)
	}
	var ins []alerts.Integration
	var sinkNames, hookNames []string
	for name, n := range s.sinks {
		ins = append(ins, alerts.Integration{Name: name, Notifier: n})
		sinkNames = append(sinkNames, name)
	}
	for name, r := range s.hooks {
		ins = append(ins, alerts.Integration{Name: name, Revoker: r})
		hookNames = append(hookNames, name)
	}
	var limitNames []string
	for name, n := range s.limit {
		ins = append(ins, alerts.Integration{Name: name, Notifier: n})
		limitNames = append(limitNames, name)
	}
	if s.limits.MaxRevocations == 0 {
		s.limits = alerts.DefaultLimitsConfig()
	}
	d, err := alerts.NewDispatcher(alerts.DispatcherOptions{Queue: s.queue, Ledger: s.ledger, Sinks: sinkNames,
		Hooks: hookNames, LimitSinks: limitNames, Limits: s.limits, Audit: s.audit, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	r, err := alerts.NewRunner(alerts.RunnerOptions{Queue: s.queue, Integrations: ins, Retrier: alerts.NewRetrier(fastRetry(), log),
		Audit: s.audit, Log: log, Workers: max(s.workers, 2), Lease: s.lease, DryRun: s.dryRun})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return d, stop
}

// waitFor polls cond. The deadline only turns a hang into a failure; no
// test depends on how fast anything is.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func revokeAlert(id, user string) detector.Alert {
	return detector.Alert{ID: id, Time: time.Date(2026, 3, 2, 8, 11, 0, 0, time.UTC), Rule: "compromise_after_attack",
		User: user, IP: "95.24.0.7", Score: 90, Severity: detector.SeverityCritical, Action: detector.ActionRevoke,
		Reasons: []string{"r"}, Evidence: []string{"e"}}
}

func notify(t testing.TB, d *alerts.Dispatcher, a detector.Alert) {
	t.Helper()
	if retry, err := d.Notify(context.Background(), a); err != nil {
		t.Fatalf("dispatch %s: retry=%v err=%v", a.ID, retry, err)
	}
}

func decodeJSON(r *http.Request, v any) error { return json.NewDecoder(r.Body).Decode(v) }
