package enrich

import (
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/atod-project/atod/enrich/geotest"
	"github.com/atod-project/atod/ingest"
)

// testdataConfig names the checked-in test databases.
func testdataConfig() Config {
	dir := filepath.Join("..", "testdata", "geoip")
	return Config{
		City:            filepath.Join(dir, geotest.CityFile),
		ASN:             filepath.Join(dir, geotest.ASNFile),
		AnonymousIP:     filepath.Join(dir, geotest.AnonymousIPFile),
		TrustedNetworks: []string{"193.175.0.0/20", "10.20.0.0/16", "2a02:3030::1"},
	}
}

func newTestEnricher(t testing.TB, cfg Config, cacheRecords int) *Enricher {
	t.Helper()
	en, err := newEnricher(cfg, nil, cacheRecords)
	if err != nil {
		t.Fatalf("newEnricher: %v", err)
	}
	t.Cleanup(func() {
		if err := en.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return en
}

// placeGeo is what Locate must say about an address of p.
func placeGeo(name string) Geo {
	p := geotest.ByName(name)
	g := Geo{Kind: KindPublic, Country: p.Country, City: p.City, Lat: p.Lat, Lon: p.Lon,
		RadiusKm: p.RadiusKm, HasLoc: true, ASN: p.ASN, Org: p.Org}
	switch p.Kind {
	case geotest.KindVPN:
		g.Anonymous = AnonymousVPN
	case geotest.KindTor:
		g.Anonymous = AnonymousTor
	case geotest.KindHosting:
		g.Anonymous = AnonymousHosting
	}
	return g
}

func trusted(g Geo) Geo { g.Trusted = true; return g }

func mapped(ip netip.Addr) netip.Addr { return netip.AddrFrom16(ip.As16()) }

func TestLocate(t *testing.T) {
	berlin, mobile := geotest.ByName("berlin"), geotest.ByName("de-mobile")
	tests := []struct {
		name string
		ip   netip.Addr
		want Geo
	}{
		{"IPv4", berlin.Addr(5), placeGeo("berlin")},
		{"IPv6", berlin.AddrIn(1, 5), placeGeo("berlin")},
		{"IPv4-mapped IPv6", mapped(berlin.Addr(5)), placeGeo("berlin")},
		{"zone dropped", netip.MustParseAddr("2003:e0::7%eth0"), placeGeo("berlin")},
		{"country level", mobile.Addr(9), placeGeo("de-mobile")},
		{"other hemisphere", geotest.ByName("sydney").Addr(1), placeGeo("sydney")},
		{"vpn", geotest.ByName("de-vpn").Addr(3), placeGeo("de-vpn")},
		{"tor", geotest.ByName("tor-exit").Addr(3), placeGeo("tor-exit")},
		{"hosting IPv6", geotest.ByName("amsterdam-hosting").AddrIn(1, 3), placeGeo("amsterdam-hosting")},
		{"trusted public", netip.MustParseAddr("193.175.0.9"), trusted(placeGeo("frankfurt"))},
		{"trusted single address", netip.MustParseAddr("2a02:3030::1"), trusted(placeGeo("de-mobile"))},
		{"next to a trusted address", netip.MustParseAddr("2a02:3030::2"), placeGeo("de-mobile")},
		{"unknown IPv4", netip.MustParseAddr("8.8.8.8"), Geo{Kind: KindUnknown}},
		{"unknown IPv6", netip.MustParseAddr("2606:4700::1111"), Geo{Kind: KindUnknown}},
		{"documentation range", netip.MustParseAddr("198.51.100.7"), Geo{Kind: KindUnknown}},
		{"no address", netip.Addr{}, Geo{Kind: KindNone}},
		{"loopback IPv4", netip.MustParseAddr("127.0.0.1"), Geo{Kind: KindLoopback}},
		{"loopback IPv6", netip.MustParseAddr("::1"), Geo{Kind: KindLoopback}},
		{"loopback mapped", netip.MustParseAddr("::ffff:127.0.0.2"), Geo{Kind: KindLoopback}},
		{"RFC 1918 10/8", netip.MustParseAddr("10.1.2.3"), Geo{Kind: KindPrivate}},
		{"RFC 1918 172.16/12", netip.MustParseAddr("172.31.255.1"), Geo{Kind: KindPrivate}},
		{"RFC 1918 192.168/16", netip.MustParseAddr("192.168.1.1"), Geo{Kind: KindPrivate}},
		{"RFC 1918 mapped", netip.MustParseAddr("::ffff:192.168.1.1"), Geo{Kind: KindPrivate}},
		{"trusted private", netip.MustParseAddr("10.20.3.4"), Geo{Kind: KindPrivate, Trusted: true}},
		{"CGNAT", netip.MustParseAddr("100.64.0.1"), Geo{Kind: KindPrivate}},
		{"CGNAT end", netip.MustParseAddr("100.127.255.254"), Geo{Kind: KindPrivate}},
		{"next to CGNAT", netip.MustParseAddr("100.128.0.1"), Geo{Kind: KindUnknown}},
		{"link-local IPv4", netip.MustParseAddr("169.254.10.1"), Geo{Kind: KindPrivate}},
		{"link-local IPv6 with zone", netip.MustParseAddr("fe80::1%eth0"), Geo{Kind: KindPrivate}},
		{"unique local", netip.MustParseAddr("fd12:3456::1"), Geo{Kind: KindPrivate}},
		{"unspecified IPv4", netip.IPv4Unspecified(), Geo{Kind: KindPrivate}},
		{"unspecified IPv6", netip.IPv6Unspecified(), Geo{Kind: KindPrivate}},
		{"multicast IPv4", netip.MustParseAddr("224.0.0.251"), Geo{Kind: KindPrivate}},
		{"multicast IPv6", netip.MustParseAddr("ff02::fb"), Geo{Kind: KindPrivate}},
		{"broadcast", netip.MustParseAddr("255.255.255.255"), Geo{Kind: KindPrivate}},
	}
	for _, cache := range []int{defaultCacheRecords, 0, 1} {
		en := newTestEnricher(t, testdataConfig(), cache)
		for _, tt := range tests {
			// Twice: the second answer may come from the cache.
			for range 2 {
				got, err := en.Locate(tt.ip)
				if err != nil || got != tt.want {
					t.Errorf("cache %d, %s: Locate(%s) = %+v, %v; want %+v", cache, tt.name, tt.ip, got, err, tt.want)
				}
			}
		}
	}
}

func TestEnrich(t *testing.T) {
	en := newTestEnricher(t, testdataConfig(), defaultCacheRecords)
	ip := geotest.ByName("london").Addr(42)
	in := ingest.Event{Time: time.Date(2026, 3, 2, 8, 31, 7, 0, time.UTC), User: "anna.koch@example.org",
		IP: mapped(ip), Type: ingest.TypeLogin, Outcome: ingest.OutcomeSuccess, ID: "e1"}
	got := en.Enrich(in)
	want := in
	want.IP = ip
	if got.Event.IP != want.IP || got.User != want.User || got.ID != want.ID || !got.Time.Equal(want.Time) {
		t.Errorf("Enrich changed the event: %+v, want %+v", got.Event, want)
	}
	if got.Geo != placeGeo("london") {
		t.Errorf("Enrich geo = %+v, want %+v", got.Geo, placeGeo("london"))
	}
	if got := en.Enrich(ingest.Event{User: "x", Type: ingest.TypeInboxRule}); got.Geo != (Geo{}) || got.IP.IsValid() {
		t.Errorf("Enrich without address = %+v", got)
	}
}

// TestWithoutDatabases: an enricher with nothing configured still classifies
// and trusts, and never fails.
func TestWithoutDatabases(t *testing.T) {
	en := newTestEnricher(t, Config{TrustedNetworks: []string{"84.128.0.0/14"}}, defaultCacheRecords)
	for ip, want := range map[string]Geo{
		"84.128.0.1": {Kind: KindUnknown, Trusted: true},
		"90.0.0.1":   {Kind: KindUnknown},
		"10.0.0.1":   {Kind: KindPrivate},
		"::1":        {Kind: KindLoopback},
	} {
		if got, err := en.Locate(netip.MustParseAddr(ip)); err != nil || got != want {
			t.Errorf("Locate(%s) = %+v, %v; want %+v", ip, got, err, want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	good := testdataConfig()
	tests := []struct {
		name string
		cfg  func(c *Config)
		want string
	}{
		{"missing file", func(c *Config) { c.ASN = "/nonexistent/asn.mmdb" }, "geoip.asn: stat /nonexistent/asn.mmdb: no such file or directory"},
		{"ASN file as city", func(c *Config) { c.City = good.ASN }, "geoip.city: " + good.ASN + ": geoip2: the City method does not support the GeoLite2-ASN database"},
		{"city file as anonymous", func(c *Config) { c.AnonymousIP = good.City }, "geoip.anonymous_ip: " + good.City + ": geoip2: the AnonymousIP method does not support the GeoLite2-City database"},
		{"not a database", func(c *Config) { c.City = "enricher_test.go" }, "geoip.city: enricher_test.go: "},
		{"bad network", func(c *Config) { c.TrustedNetworks = []string{"10.0.0.0/8", "nope"} }, `trusted_networks[1]: "nope" is not a CIDR`},
	}
	for _, tt := range tests {
		cfg := testdataConfig()
		tt.cfg(&cfg)
		en, err := New(cfg, nil)
		if err == nil {
			_ = en.Close()
			t.Errorf("%s: New succeeded", tt.name)
			continue
		}
		if !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: New error %q, want it to start with %q", tt.name, err, tt.want)
		}
	}
}

// TestConcurrentLocate runs under -race: many goroutines share one
// Enricher and its small cache, which collides all the time.
func TestConcurrentLocate(t *testing.T) {
	en := newTestEnricher(t, testdataConfig(), 8)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				p := geotest.World[(g+i)%len(geotest.World)]
				n := i % len(p.Networks)
				got, err := en.Locate(p.AddrIn(n, i))
				if err != nil || got.ASN != p.ASN || got.City != p.City {
					t.Errorf("Locate(%s) = %+v, %v; want %s", p.AddrIn(n, i), got, err, p.Name)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestEnrichDoesNotAllocate(t *testing.T) {
	en := newTestEnricher(t, testdataConfig(), defaultCacheRecords)
	events := []ingest.Event{
		{User: "a", IP: geotest.ByName("berlin").Addr(1)},
		{User: "b", IP: geotest.ByName("tor-exit").Addr(1)},
		{User: "c", IP: netip.MustParseAddr("8.8.8.8")},
		{User: "d", IP: netip.MustParseAddr("10.20.0.1")},
	}
	for _, e := range events {
		en.Enrich(e) // fill the cache
	}
	for _, e := range events {
		if n := testing.AllocsPerRun(100, func() { en.Enrich(e) }); n != 0 {
			t.Errorf("Enrich(%s) allocates %.1f times", e.IP, n)
		}
	}
}

func TestClassify(t *testing.T) {
	for ip, want := range map[string]Kind{
		"":                   KindNone,
		"84.128.0.1":         KindPublic, // Classify asks no database
		"::ffff:100.100.1.1": KindPrivate,
		"fe80::1%eth0":       KindPrivate,
		"::ffff:127.0.0.1":   KindLoopback,
		"0.1.2.3":            KindPrivate,
		"240.0.0.1":          KindPrivate,
		"2001:db8::1":        KindPublic,
	} {
		var addr netip.Addr
		if ip != "" {
			addr = netip.MustParseAddr(ip)
		}
		if got := Classify(addr); got != want {
			t.Errorf("Classify(%q) = %q, want %q", ip, got, want)
		}
	}
}

// TestNetworkCacheAgrees: answers cached by /24 or /48 network are those of
// the databases for every address, also where a database splits such a
// network (each database differently here) and next to the split.
func TestNetworkCacheAgrees(t *testing.T) {
	dir := t.TempDir()
	berlin, munich := geotest.ByName("berlin"), geotest.ByName("munich")
	city := func(p geotest.Place) mmdbtype.Map {
		return mmdbtype.Map{
			"country":  mmdbtype.Map{"iso_code": mmdbtype.String(p.Country)},
			"city":     mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(p.City)}},
			"location": mmdbtype.Map{"latitude": mmdbtype.Float64(p.Lat), "longitude": mmdbtype.Float64(p.Lon), "accuracy_radius": mmdbtype.Uint16(p.RadiusKm)},
		}
	}
	asn := func(n uint32) mmdbtype.Map {
		return mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(n), "autonomous_system_organization": mmdbtype.String("org")}
	}
	cfg := Config{
		City: writeTestDB(t, dir, "GeoLite2-City", []testNet{
			{"84.128.0.0/14", city(berlin)}, {"84.128.7.16/28", city(munich)},
			{"2003:e0::/28", city(berlin)}, {"2003:e0:0:5::/64", city(munich)},
		}),
		ASN: writeTestDB(t, dir, "GeoLite2-ASN", []testNet{
			{"84.128.0.0/14", asn(3320)}, {"84.128.7.128/25", asn(8881)}, {"84.128.9.0/24", asn(8881)},
			{"2003:e0::/28", asn(3320)}, {"2003:e0:0:9::/64", asn(8881)},
		}),
		AnonymousIP: writeTestDB(t, dir, "GeoIP2-Anonymous-IP", []testNet{
			{"84.128.7.64/26", mmdbtype.Map{"is_hosting_provider": mmdbtype.Bool(true)}},
			{"84.128.10.0/23", mmdbtype.Map{"is_anonymous_vpn": mmdbtype.Bool(true)}},
		}),
		TrustedNetworks: []string{"84.128.11.16/28", "2003:e0::5"},
	}
	cached, plain := newTestEnricher(t, cfg, defaultCacheRecords), newTestEnricher(t, cfg, 0)
	var ips []netip.Addr
	for _, s := range []string{"84.128.6.0/24", "84.128.7.0/24", "84.128.8.0/24", "84.128.9.0/24", "84.128.10.0/24", "84.128.11.0/24", "84.131.255.0/24", "84.132.0.0/24"} {
		for i := range 256 {
			ips = append(ips, hostIn(netip.MustParsePrefix(s), i))
		}
	}
	for _, s := range []string{"2003:e0::/48", "2003:e0:0:5::/64", "2003:e0:0:9::/64", "2003:f0::/48"} {
		for i := range 64 {
			ips = append(ips, hostIn(netip.MustParsePrefix(s), i))
		}
	}
	ips = append(ips, netip.MustParseAddr("2003:e0:0:4:ffff:ffff:ffff:ffff"), netip.MustParseAddr("2003:e0:0:6::"))
	// Twice, in orders that start inside and outside the splits alike:
	// the second round mostly from the cache.
	for round := range 2 {
		for i := range ips {
			ip := ips[(i*37+round*101)%len(ips)]
			got, err1 := cached.Locate(ip)
			want, err2 := plain.Locate(ip)
			if got != want || err1 != nil || err2 != nil {
				t.Fatalf("Locate(%s) = %+v, %v with the network cache, %+v, %v without", ip, got, err1, want, err2)
			}
		}
	}
	if got, _ := cached.Locate(netip.MustParseAddr("84.128.7.20")); got.City != munich.City || got.Anonymous != "" || got.ASN != 3320 {
		t.Errorf("the test databases are not what the test expects: %+v", got)
	}
}

type testNet struct {
	prefix string
	value  mmdbtype.DataType
}

// writeTestDB writes a database of type dbType with nets, inserted in
// order (a later, smaller network splits an earlier one), and returns its
// path.
func writeTestDB(t *testing.T, dir, dbType string, nets []testNet) string {
	t.Helper()
	return writeTypedDB(t, dir, dbType+".mmdb", dbType, 6, nets)
}

func TestHoldsNet(t *testing.T) {
	for _, tt := range []struct {
		prefix, ip string
		want       bool
	}{
		{"84.128.0.0/14", "84.128.7.9", true},
		{"84.128.7.0/24", "84.128.7.9", true},
		{"84.128.7.0/25", "84.128.7.9", false},
		{"::/64", "84.128.7.9", true}, // ended above the IPv4 subtree
		{"2003:e0::/28", "2003:e0::7", true},
		{"2003:e0::/48", "2003:e0::7", true},
		{"2003:e0::/49", "2003:e0::7", false},
	} {
		if got := holdsNet(netip.MustParsePrefix(tt.prefix), netip.MustParseAddr(tt.ip)); got != tt.want {
			t.Errorf("holdsNet(%s, %s) = %v, want %v", tt.prefix, tt.ip, got, tt.want)
		}
	}
}
