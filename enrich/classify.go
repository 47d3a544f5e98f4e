package enrich

import "net/netip"

// Classify sorts an address before any database is asked. Addresses that
// cannot be a client on the public Internet are KindPrivate, so that they are
// never given a location that some database might guess for them:
// RFC 1918, CGNAT, link-local, unique-local, unspecified, multicast,
// 0.0.0.0/8 and 240.0.0.0/4 (which includes the broadcast address).
// Everything else is KindPublic here; Locate turns it into KindUnknown when
// the City database does not know it. IPv4-mapped IPv6 (::ffff:a.b.c.d) is
// judged as the IPv4 address it carries, and a zone is ignored.
func Classify(ip netip.Addr) Kind {
	if !ip.IsValid() {
		return KindNone
	}
	return classify(normalize(ip))
}

// classify is Classify of a valid, normalized address.
func classify(ip netip.Addr) Kind {
	switch {
	case ip.IsLoopback():
		return KindLoopback
	case ip.IsPrivate(), ip.IsLinkLocalUnicast(), ip.IsUnspecified(), ip.IsMulticast():
		return KindPrivate
	case ip.Is4() && nonPublicIPv4(ip.As4()):
		return KindPrivate
	}
	return KindPublic
}

// normalize turns an address into the form lookups and comparisons expect:
// IPv4-mapped IPv6 unmapped, and no zone (netip never finds an address with a
// zone inside a prefix).
func normalize(ip netip.Addr) netip.Addr { return ip.Unmap().WithZone("") }

// nonPublicIPv4 reports the IPv4 ranges netip has no method for:
// 100.64.0.0/10 (RFC 6598 carrier-grade NAT, which puts many customers
// behind one range and so says nothing about where a user is), 0.0.0.0/8
// ("this network") and 240.0.0.0/4 (reserved, with the broadcast address).
func nonPublicIPv4(a [4]byte) bool {
	return a[0] == 100 && a[1]&0xc0 == 64 || a[0] == 0 || a[0] >= 240
}
