package dovecot

import (
	"fmt"
	"net/netip"
)

// parseIP reads a rip= value; login lines without one cannot become events.
func parseIP(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, fmt.Errorf("dovecot: login line without rip=")
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("dovecot: rip=%q is not an IP address", s)
	}
	return ip.WithZone("").Unmap(), nil
}
