package alerts

import (
	"testing"

	"github.com/atod-project/atod/ingest"
)

// hooks.limits.never_revoke is matched as events spell the account
// (ingest.FoldUser): a break-glass account listed as written, in Greek
// with its final sigma or in capitals, is the name the alert carries. With
// strings.ToLower the last guard against revoking it failed.
func TestLimitsNeverRevokeMatchesFoldedNames(t *testing.T) {
	for _, listed := range []string{"νίκος@example.gr", "ΜΙΧΆΛΗΣ@example.gr", "ηλίας.*@example.gr"} {
		name := listed
		if name == "ηλίας.*@example.gr" {
			name = "ηλίας.k@example.gr"
		}
		e, err := ingest.ParseCanonical([]byte(`{"time":"2026-03-02T08:31:07Z","user":"` + name + `","ip":"192.0.2.1","outcome":"success"}`))
		if err != nil {
			t.Fatal(err)
		}
		c := LimitsConfig{NeverRevoke: []string{listed}}
		if !c.neverRevoke(e.User) {
			t.Errorf("limits.never_revoke %q does not match the account %q that ingest hands on for %q", listed, e.User, name)
		}
	}
}
