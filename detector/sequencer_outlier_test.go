package detector

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/atod-project/atod/enrich"
)

// These run as replay does: with ConfirmProgress, one event far ahead of
// the others (a source with a wrong clock, time zone or year) waits for a
// second to confirm its time. Found by the rules review of session 13.

// runConfirmed runs events through a pipeline set as replay sets it.
func runConfirmed(t testing.TB, cfg Config, store Store, size int, events []enrich.Event) []Alert {
	t.Helper()
	return runPipeline(t, cfg, store, size, true, events)
}

// Events far in the future (a source with a wrong clock, time zone or
// year) must not wipe state the rules still need: the engine itself keeps
// an address marked as attacking for address_attack.memory, but the memory
// store sweeps as of the newest Seen it was handed and resets every state
// loaded afterwards that is past the retention as of that future time.
func TestFutureEventsDoNotWipeAttackMemory(t *testing.T) {
	cfg := DefaultConfig()
	evs, hit, want := attackThenHit(t, cfg)
	// A mail server whose log is three days ahead.
	skewed := []enrich.Event{
		ev(at(3*24*time.Hour), user("clock@example.org"), from("62.216.0.1"), where(munich)),
		ev(at(3*24*time.Hour+2*time.Minute), user("clock@example.org"), from("62.216.0.1"), where(munich)),
	}
	all := append(append(slices.Clone(evs), skewed...), hit)
	// Batches of one event: the alerts must not depend on batch
	// boundaries (replay runs 512 events at once, live mode what is ready),
	// and here the future events are saved before the hit is loaded.
	got := rulesOf(runConfirmed(t, cfg, NewMemoryStore(cfg.UserRetention, cfg.AddrRetention), 1, all))
	if len(got) != 2 || got[1] != "compromise_after_attack/revoke_sessions" {
		t.Errorf("after events 3 days ahead: got %v, want %v", got, want)
	}
}

// The Sequencer's watermark is the newest event time pushed: one event
// ahead of the others (a device two hours off, a time-zone bug) ends the
// reordering for everything after it, and events that arrive out of order
// within the lateness are run out of order. Here the last MFA denial
// arrives a few seconds after the success it preceded.
func TestOneEarlyEventKeepsReorderingWithinLateness(t *testing.T) {
	var evs []enrich.Event
	for d := 6; d >= 1; d-- {
		evs = append(evs, ev(at(-time.Duration(d)*24*time.Hour)))
	}
	denial := func(s int) enrich.Event {
		return ev(at(time.Duration(s)*time.Second), failed(), reason("mfa_denied"), from("105.112.0.5"), where(lagos))
	}
	success := ev(at(180*time.Second), from("105.112.0.5"), where(lagos))
	evs = append(evs, denial(0), denial(60), success, denial(170)) // the last denial 10s late
	want := rulesOf(run(t, DefaultConfig(), evs))
	if len(want) == 0 || want[0] != "mfa_fatigue/revoke_sessions" {
		t.Fatalf("control: got %v", want)
	}
	early := ev(at(-time.Minute+2*time.Hour), user("bob@example.org"), from("84.128.7.7"))
	withEarly := append(slices.Clone(evs[:6]), early)
	withEarly = append(withEarly, evs[6:]...)
	if got := rulesOf(runConfirmed(t, DefaultConfig(), NewMemoryStore(0, 0), 0, withEarly)); !slices.Equal(got, want) {
		t.Errorf("after bob's event 2h ahead: got %v, want %v", got, want)
	}
}

// Live mode: an event later than the ceiling (the clock plus a margin) runs
// at once, for its own account, but moves neither the memory store's
// expiry clock nor the organisation's: the attack memory and the spray
// attempts of the events around it stay.
func TestEarlyEventAboveCeilingKeepsClocks(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Lateness = 0 // the attack is run and saved before the early event
	evs, hit, want := attackThenHit(t, cfg)
	skewed := ev(at(3*24*time.Hour), user("clock@example.org"), from("62.216.0.1"), where(munich))
	got, early := runLive(t, cfg, t0.Add(3*time.Hour), append(append(slices.Clone(evs), skewed), hit))
	if early != 1 {
		t.Errorf("early %d, want 1", early)
	}
	if got := rulesOf(got); !slices.Equal(got, want) {
		t.Errorf("with an event 3 days ahead of the clock: got %v, want %v", got, want)
	}
}

// attackThenHit is twelve unknown-user failures from one address in Lagos
// and, two hours later, a success from it: the control run (without the
// events a test adds) must give the compromise_after_attack revocation.
func attackThenHit(t *testing.T, cfg Config) (attack []enrich.Event, hit enrich.Event, want []string) {
	t.Helper()
	for i := range 12 {
		attack = append(attack, ev(at(time.Duration(i)*10*time.Second), failed(), reason("unknown_user"), from("105.112.9.9"),
			where(lagos), user(fmt.Sprintf("u%03d@example.org", i))))
	}
	hit = ev(at(2*time.Hour), from("105.112.9.9"), where(lagos), user("u005@example.org"))
	want = rulesOf(run(t, cfg, append(slices.Clone(attack), hit)))
	if len(want) != 2 || want[1] != "compromise_after_attack/revoke_sessions" {
		t.Fatalf("control: got %v", want)
	}
	return attack, hit, want
}
