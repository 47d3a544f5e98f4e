package dovecot

import "testing"

// Names doveadm kick would read as an address or range are refused; names
// that merely look numeric-ish are not.
func TestReadsAsAddress(t *testing.T) {
	for s, want := range map[string]bool{
		"0.0.0.0/0": true, "::/0": true, "[::]/0": true, "10.1.2.3": true, "127.1": true,
		"0x7f000001": true, "12345": true, "10.0.0.1 staff": true, "fe80::1%eth0": true, "2001:db8::1/64": true,
		"anna@example.org": false, "cafe": false, "dead.beef": false, "1.2.3.4.5": false, "a:b": false,
		"10.0.0.1x": false, "": false, "0x": false, "staff03": false, "1..2": false,
	} {
		if got := readsAsAddress(s); got != want {
			t.Errorf("readsAsAddress(%q) = %v, want %v", s, got, want)
		}
	}
}
