package alerts

import "testing"

// hooks.limits.never_revoke globs still work after FoldUser: metacharacters
// are untouched, and a character class or range written in capitals (or
// with a Kelvin sign) still matches the folded names events carry.
func TestNeverRevokeGlobsAfterFolding(t *testing.T) {
	for _, tc := range []struct {
		pattern, user string
		want          bool
	}{
		{"*@EXAMPLE.ORG", "anna@example.org", true},
		{"[A-C]*@example.org", "bob@example.org", true},
		{"[A-C]*@example.org", "dora@example.org", false},
		{"[^A-C]*@example.org", "bob@example.org", false},
		{"BREAK?GLASS@example.org", "break-glass@example.org", true},
		{"\\*@example.org", "*@example.org", true},
		{"\\*@example.org", "x@example.org", false},
		{"[\u212A]arl@example.org", "karl@example.org", true},
		{" ΝΊΚΟΣ@example.gr ", "νίκος@example.gr", true},
	} {
		c := LimitsConfig{NeverRevoke: []string{tc.pattern}}
		if got := c.neverRevoke(tc.user); got != tc.want {
			t.Errorf("never_revoke %q, user %q: %v, want %v", tc.pattern, tc.user, got, tc.want)
		}
	}
}
