package dovecot

import (
	"errors"
	"net/netip"
	"strings"
)

// kickable refuses an account name that doveadm kick would not read as
// that one account. kick takes a mask, not a name: "*" and "?" are
// wildcards, and an element that reads as an address or a range
// (Dovecot's net_parse_range: "10.1.2.3", "0.0.0.0/0", "[::]/0", and, as
// inet_aton reads IPv4, "127.1" or "0x7f000001") selects connections by
// address: one such account name would end every user's sessions from
// there. Names come from log lines, so any of these can arrive.
func kickable(user string) error {
	if strings.ContainsAny(user, "*?") {
		return errors.New("the name holds a wildcard (* or ?) that doveadm kick would match other users with")
	}
	if readsAsAddress(user) {
		return errors.New("the name reads as an IP address or range to doveadm kick, which would end the sessions of everyone connected from there")
	}
	return nil
}

// readsAsAddress reports whether Dovecot could take s for an address or
// an address/bits range. It errs on the side of yes: a name it refuses is
// not revoked (a clear error), one it let through could end other users'
// sessions. Dovecot versions differ on names of digits alone (older ones
// read "12345" as the address 0.0.48.57), so those count as addresses.
func readsAsAddress(s string) bool {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	if strings.Contains(s, ":") {
		s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
		_, err := netip.ParseAddr(s)
		return err == nil
	}
	// inet_aton stops at the first white space and ignores what follows.
	if i := strings.IndexAny(s, " \t\n\v\f\r"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return false
	}
	for _, p := range parts {
		if !cNumber(p) {
			return false
		}
	}
	return true
}

// cNumber reports whether p is a number as C's strtoul with base 0 reads
// one whole: decimal, octal with a leading 0, or hex with 0x.
func cNumber(p string) bool {
	digits := "0123456789"
	if len(p) > 2 && (p[:2] == "0x" || p[:2] == "0X") {
		p, digits = p[2:], "0123456789abcdefABCDEF"
	}
	if p == "" {
		return false
	}
	for i := 0; i < len(p); i++ {
		if !strings.ContainsRune(digits, rune(p[i])) {
			return false
		}
	}
	return true
}
