package dovecot_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/dovecot"
	"github.com/atod-project/atod/ingest/dovecot/dovecottest"
	"github.com/atod-project/atod/ingest/syslog"
	"github.com/atod-project/atod/ingest/tail"
)

// TestRealDovecot signs in to a real Dovecot with an IMAP client: the
// account's owner from 127.0.0.1, then an attacker from 127.0.5.5 (every
// 127/8 address is local) who guesses wrong ten times, tries an account
// that does not exist, and finally gets in. Dovecot's own log, followed by
// ingest/tail and read by this package, must give one event per
// connection, and the detector with its default thresholds must raise
// brute_force and then compromise_after_attack. It runs with Dovecot's
// default log_timestamp (seconds, no year) and with microseconds.
func TestRealDovecot(t *testing.T) {
	t.Run("seconds", func(t *testing.T) { realDovecot(t, "") })
	t.Run("microseconds", func(t *testing.T) { realDovecot(t, "%Y-%m-%d %H:%M:%S.%{usecs} ") })
}

func realDovecot(t *testing.T, logTimestamp string) {
	const (
		user, password  = "anna.koch@example.org", "correct horse"
		owner, attacker = "127.0.0.1", "127.0.5.5"
		habitLogins     = 5  // detector default signin_risk.learning_logins
		guesses         = 10 // detector default brute_force.min_failures
	)
	srv := dovecottest.Start(t, dovecottest.Options{
		Users:        []dovecottest.User{{Name: user, Password: password}},
		LogTimestamp: logTimestamp,
	})

	login := func(from, name, pw string) error {
		c, err := dovecottest.DialIMAP(srv.IMAPAddr, from)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Login(name, pw); err != nil {
			return err
		}
		return c.Logout()
	}
	for range habitLogins {
		if err := login(owner, user, password); err != nil {
			t.Fatalf("owner's sign-in: %v\n%s", err, srv.Log(t))
		}
	}
	for i := range guesses {
		if err := login(attacker, user, "guess"+string(rune('a'+i))); !errors.Is(err, dovecottest.ErrAuthFailed) {
			t.Fatalf("guess %d: got %v, want ErrAuthFailed", i, err)
		}
	}
	if err := login(attacker, "ghost@example.org", "x"); !errors.Is(err, dovecottest.ErrAuthFailed) {
		t.Fatalf("unknown user: got %v, want ErrAuthFailed", err)
	}
	if err := login(attacker, user, password); err != nil {
		t.Fatalf("attacker's sign-in: %v", err)
	}
	const wantEvents = habitLogins + guesses + 2

	events := followEvents(t, srv.LogPath, wantEvents)
	log := string(srv.Log(t))
	sessions := regexp.MustCompile(`session=<([^>]+)>`).FindAllStringSubmatch(log, -1)
	for i, e := range events {
		var wantIP, wantUser, wantOutcome, wantReason = attacker, user, ingest.OutcomeFailure, ingest.ReasonBadPassword
		switch {
		case i < habitLogins:
			wantIP, wantOutcome, wantReason = owner, ingest.OutcomeSuccess, ""
		case i == habitLogins+guesses:
			wantUser, wantReason = "ghost@example.org", ingest.ReasonUnknownUser
		case i == wantEvents-1:
			wantOutcome, wantReason = ingest.OutcomeSuccess, ""
		}
		if e.User != wantUser || e.IP.String() != wantIP || e.Outcome != wantOutcome || e.Reason != wantReason ||
			e.Protocol != "imap" || e.Source != dovecot.FormatName {
			t.Errorf("event %d: %+v; want %s from %s, %s %s", i, e, wantUser, wantIP, wantOutcome, wantReason)
		}
		if e.ID == "" || !slices.ContainsFunc(sessions, func(m []string) bool { return m[1] == e.ID }) {
			t.Errorf("event %d: id %q is no session of the log", i, e.ID)
		}
		if (e.Outcome == ingest.OutcomeSuccess) != (e.SessionID == e.ID) {
			t.Errorf("event %d: session_id %q, id %q", i, e.SessionID, e.ID)
		}
		if d := time.Since(e.Time); d < 0 || d > 5*time.Minute {
			t.Errorf("event %d: time %s is not now", i, e.Time)
		}
	}
	if t.Failed() {
		t.Fatalf("Dovecot's log:\n%s", log)
	}

	rules := detect(t, events)
	bf, ca := slices.Index(rules, detector.RuleBruteForce), slices.Index(rules, detector.RuleCompromise)
	if bf < 0 || ca < bf {
		t.Fatalf("alerts %v; want brute_force, then compromise_after_attack", rules)
	}
}

// followEvents follows Dovecot's log as "atod run" would and returns the
// first n events.
func followEvents(t *testing.T, path string, n int) []ingest.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	src := &tail.Source{
		Config: tail.Config{Path: path, FromStart: true, Poll: 10 * time.Millisecond},
		Format: dovecot.Format(syslog.Options{}), // Dovecot writes local time
	}
	var mu sync.Mutex
	var events []ingest.Event
	st, err := src.Run(ctx, ingest.HandlerFunc(func(_ context.Context, e ingest.Event) error {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
		if len(events) == n {
			cancel()
		}
		return nil
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != n {
		t.Fatalf("got %d events, want %d (stats %+v)", len(events), n, st)
	}
	if st.DeadLetters != 0 || st.Skipped == 0 {
		t.Errorf("stats %+v: want no dead letters and the logouts skipped", st)
	}
	return events
}

// detect runs events through enrichment and the detector with its
// default configuration and returns the rules of the alerts, in order.
func detect(t *testing.T, events []ingest.Event) []string {
	t.Helper()
	enr, err := enrich.New(enrich.Config{}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer enr.Close()
	cfg := detector.DefaultConfig()
	eng, err := detector.NewEngine(cfg, detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	pipe := detector.NewPipeline(eng, func(_ context.Context, a detector.Alert) error {
		if a.User == "anna.koch@example.org" {
			rules = append(rules, a.Rule)
		}
		return nil
	})
	ctx := context.Background()
	for _, e := range events {
		if err := pipe.Push(ctx, enr.Enrich(e)); err != nil {
			t.Fatal(err)
		}
	}
	if err := pipe.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return rules
}
