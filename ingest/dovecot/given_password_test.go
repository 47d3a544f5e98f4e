package dovecot

import (
	"strings"
	"testing"
)

// With auth_verbose_passwords = plain, Dovecot appends the password the
// client tried: "Password mismatch (given password: ...)". That text is
// the client's, so it must not decide the reason: a wrong password that
// happens to contain "expired", "locked", "disabled" or "unknown user" is
// still a wrong password.
func TestGivenPasswordDoesNotDecideReason(t *testing.T) {
	closing := "Mar  2 08:31:09 mail dovecot: imap-login: Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): user=<anna@example.org>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.10, session=<S>"
	for _, tc := range []struct{ password, reason string }{
		{"Winter2026-expired", "bad_password"},
		{"AccountLocked!", "bad_password"},
		{"hunter2", "bad_password"}, // control
	} {
		auth := "Mar  2 08:31:07 mail dovecot: auth: passwd-file(anna@example.org,203.0.113.5,<S>): Password mismatch (given password: " + tc.password + ")"
		events, skipped := decodeAll(t, []string{auth, closing})
		if skipped != 0 || len(events) != 1 {
			t.Fatalf("%s: got %v, %d skipped; want one event", tc.password, events, skipped)
		}
		if want := `"reason":"` + tc.reason + `"`; !strings.Contains(events[0], want) {
			t.Errorf("given password %q: got %s, want %s", tc.password, events[0], want)
		}
	}
}
