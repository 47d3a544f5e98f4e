// Package loopback tells whether a service's address is this machine: a
// password or personal data sent there in clear stays on the host, while
// any other address may cross a network. Kafka's SASL PLAIN, the hooks'
// and sinks' plain http, and the warnings about Redis and syslog without
// TLS all ask it, so that they judge an address alike.
package loopback

import (
	"net"
	"net/netip"
	"strings"
)

// Host reports whether host, a name or an address without a port, is the
// loopback: an address in 127.0.0.0/8 or ::1 (IPv4-mapped too), or
// localhost in any case, with or without the root's dot. Any other name
// may resolve anywhere.
func Host(host string) bool {
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback() || strings.EqualFold(strings.TrimSuffix(host, "."), "localhost")
}

// FirstRemote returns the first of addrs (host:port, or a bare host)
// whose host is not the loopback, or "".
func FirstRemote(addrs []string) string {
	for _, a := range addrs {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			host = a
		}
		if !Host(host) {
			return a
		}
	}
	return ""
}
