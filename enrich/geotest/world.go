// Package geotest is the made-up world of atod's tests: places with
// coordinates, accuracy radii, networks and ASNs. The GeoIP test databases
// in testdata/geoip are written from it (cmd/mkgeoip) and the synthetic
// tenants draw their addresses from it, so both always agree.
//
// The networks are real-looking public ranges chosen for tests only; the
// locations they are given here are not where those ranges really are.
package geotest

import (
	"fmt"
	"net/netip"
)

// Place is one location with the networks that egress there.
type Place struct {
	Name        string // key used by tests and generators, e.g. "berlin"
	Country     string // ISO 3166-1 alpha-2
	CountryName string
	City        string // empty for country-level locations (mobile carriers)
	Lat, Lon    float64
	RadiusKm    int // accuracy radius written to the City database
	ASN         uint32
	Org         string
	Kind        string   // residential, corporate, mobile, hosting, vpn, tor
	Networks    []string // CIDRs, IPv4 or IPv6
}

// World lists every place of the test databases. Order is fixed: generators
// index into it.
var World = []Place{
	{"berlin", "DE", "Germany", "Berlin", 52.5200, 13.4050, 20, 3320, "Deutsche Telekom AG", "residential", []string{"84.128.0.0/14", "2003:e0::/28"}},
	{"hamburg", "DE", "Germany", "Hamburg", 53.5511, 9.9937, 20, 3209, "Vodafone GmbH", "residential", []string{"88.64.0.0/15"}},
	{"munich", "DE", "Germany", "Munich", 48.1351, 11.5820, 20, 8881, "1&1 Versatel Deutschland GmbH", "residential", []string{"62.216.0.0/17"}},
	{"frankfurt", "DE", "Germany", "Frankfurt am Main", 50.1109, 8.6821, 10, 64500, "Example Hospital Group", "corporate", []string{"193.175.0.0/20"}},
	{"de-mobile", "DE", "Germany", "", 51.2993, 9.4910, 1000, 6805, "Telefonica Germany GmbH", "mobile", []string{"176.0.0.0/14", "2a02:3030::/32"}},
	{"nuremberg-hosting", "DE", "Germany", "Nuremberg", 49.4521, 11.0767, 50, 24940, "Hetzner Online GmbH", "hosting", []string{"78.46.0.0/15", "2a01:4f8::/32"}},
	{"de-vpn", "DE", "Germany", "Dusseldorf", 51.2277, 6.7735, 50, 9009, "M247 Europe SRL", "vpn", []string{"185.65.132.0/22"}},
	{"vienna", "AT", "Austria", "Vienna", 48.2082, 16.3738, 20, 8447, "A1 Telekom Austria AG", "residential", []string{"80.108.0.0/16"}},
	{"zurich", "CH", "Switzerland", "Zurich", 47.3769, 8.5417, 20, 3303, "Swisscom (Schweiz) AG", "residential", []string{"85.0.0.0/15"}},
	{"paris", "FR", "France", "Paris", 48.8566, 2.3522, 20, 3215, "Orange S.A.", "residential", []string{"90.0.0.0/14"}},
	{"london", "GB", "United Kingdom", "London", 51.5074, -0.1278, 20, 2856, "British Telecommunications PLC", "residential", []string{"81.128.0.0/13"}},
	{"amsterdam-hosting", "NL", "Netherlands", "Amsterdam", 52.3676, 4.9041, 50, 14061, "DigitalOcean, LLC", "hosting", []string{"188.166.0.0/16", "2a03:b0c0::/32"}},
	{"tor-exit", "NL", "Netherlands", "", 52.1326, 5.2913, 200, 60404, "The Infrastructure Group B.V.", "tor", []string{"185.220.100.0/22"}},
	{"new-york", "US", "United States", "New York", 40.7128, -74.0060, 20, 7922, "Comcast Cable Communications, LLC", "residential", []string{"73.0.0.0/12"}},
	{"san-francisco", "US", "United States", "San Francisco", 37.7749, -122.4194, 20, 701, "Verizon Business", "residential", []string{"71.96.0.0/14"}},
	{"us-mobile", "US", "United States", "", 37.7510, -97.8220, 1000, 21928, "T-Mobile USA, Inc.", "mobile", []string{"172.56.0.0/14"}},
	{"us-corporate", "US", "United States", "Boston", 42.3601, -71.0589, 10, 64501, "Example Hospital Group US", "corporate", []string{"192.80.0.0/20"}},
	{"lagos", "NG", "Nigeria", "Lagos", 6.5244, 3.3792, 50, 29465, "MTN Nigeria Communication limited", "residential", []string{"105.112.0.0/14"}},
	{"moscow", "RU", "Russia", "Moscow", 55.7558, 37.6173, 20, 12389, "Rostelecom", "residential", []string{"95.24.0.0/13"}},
	{"sao-paulo", "BR", "Brazil", "Sao Paulo", -23.5505, -46.6333, 20, 28573, "Claro NXT Telecomunicacoes Ltda", "residential", []string{"177.32.0.0/14"}},
	{"singapore", "SG", "Singapore", "Singapore", 1.3521, 103.8198, 20, 4773, "MobileOne Ltd.", "residential", []string{"111.65.0.0/16"}},
	{"beijing", "CN", "China", "Beijing", 39.9042, 116.4074, 50, 4808, "China Unicom Beijing Province Network", "residential", []string{"123.112.0.0/12"}},
	{"sydney", "AU", "Australia", "Sydney", -33.8688, 151.2093, 20, 1221, "Telstra Corporation Ltd", "residential", []string{"101.160.0.0/13"}},
	{"mallorca", "ES", "Spain", "Palma", 39.5696, 2.6502, 20, 3352, "Telefonica de Espana SAU", "residential", []string{"83.32.0.0/13"}},
}

// ByName returns the place with the given name; it panics on an unknown name
// because names are fixed in code, never read from input.
func ByName(name string) Place {
	for _, p := range World {
		if p.Name == name {
			return p
		}
	}
	panic(fmt.Sprintf("geotest: no place %q", name))
}

// Addr returns the i-th host of the place's first network (i >= 0), skipping
// the network address; it wraps around inside the network.
func (p Place) Addr(i int) netip.Addr { return p.AddrIn(0, i) }

// AddrIn returns the i-th host of the place's n-th network.
func (p Place) AddrIn(n, i int) netip.Addr {
	prefix := netip.MustParsePrefix(p.Networks[n])
	bits := prefix.Addr().BitLen() - prefix.Bits()
	if bits > 24 {
		bits = 24
	}
	size := 1<<bits - 2
	off := uint64(i%size) + 1
	b := prefix.Addr().AsSlice()
	for j := len(b) - 1; j >= 0 && off > 0; j-- {
		sum := uint64(b[j]) + off&0xff
		b[j] = byte(sum)
		off = off>>8 + sum>>8
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
