package detector

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/atod-project/atod/enrich"
)

// A failed sign-in above the ceiling does not age out the organisation's
// spray attempts as of its own time.
func TestEarlyFailedSignInKeepsSprayMemory(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Lateness = 0
	var evs []enrich.Event
	for i := range 24 {
		ip := fmt.Sprintf("78.46.%d.9", i%6) // six addresses, four accounts each
		evs = append(evs, ev(at(time.Duration(i)*7*time.Minute), failed(), reason("unknown_user"), from(ip),
			where(munich), user(fmt.Sprintf("u%02d@example.org", i)), kind("login")))
	}
	if got := rulesOf(run(t, cfg, evs)); len(got) != 1 {
		t.Fatalf("control: got %v, want one password_spray alert", got)
	}
	// The same spray with, in the middle, a failed sign-in stamped three
	// days ahead of the clock: early, run at once for its account.
	skewed := ev(at(3*24*time.Hour), failed(), reason("unknown_user"), from("62.216.0.1"), where(munich),
		user("clock@example.org"), kind("login"))
	in := append(append(slices.Clone(evs[:12]), skewed), evs[12:]...)
	got, early := runLive(t, cfg, t0.Add(3*time.Hour), in)
	if early != 1 {
		t.Fatalf("early %d, want 1", early)
	}
	if !slices.Contains(rulesOf(got), "password_spray/alert") {
		t.Errorf("with one failed sign-in 3 days ahead of the clock the spray went unreported: got %v", rulesOf(got))
	}
}
