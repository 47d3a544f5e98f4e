package geotest_test

import (
	"bytes"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	geoip2 "github.com/oschwald/geoip2-golang/v2"

	"github.com/atod-project/atod/enrich/geotest"
)

type writer struct {
	file  string
	write func(io.Writer, geotest.Options) error
}

// The writers, City first, ASN second, Anonymous-IP third.
func allWriters() []writer {
	return []writer{
		{geotest.CityFile, geotest.WriteCity},
		{geotest.ASNFile, geotest.WriteASN},
		{geotest.AnonymousIPFile, geotest.WriteAnonymousIP},
	}
}

func write(t testing.TB, w writer, opts geotest.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := w.write(&buf, opts); err != nil {
		t.Fatalf("writing %s: %v", w.file, err)
	}
	return buf.Bytes()
}

func open(t testing.TB, w writer, opts geotest.Options) *geoip2.Reader {
	t.Helper()
	r, err := geoip2.OpenBytes(write(t, w, opts))
	if err != nil {
		t.Fatalf("opening %s: %v", w.file, err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func TestWriteIsDeterministic(t *testing.T) {
	for _, opts := range []geotest.Options{{}, {Filler: 500}} {
		for _, w := range allWriters() {
			if a, b := write(t, w, opts), write(t, w, opts); !bytes.Equal(a, b) {
				t.Errorf("%s with %+v: two runs differ", w.file, opts)
			}
		}
	}
}

// TestCheckedInFilesAreCurrent catches a World edited without regenerating
// testdata/geoip.
func TestCheckedInFilesAreCurrent(t *testing.T) {
	dir := t.TempDir()
	if err := geotest.WriteFiles(dir, geotest.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, w := range allWriters() {
		want, err := os.ReadFile(filepath.Join(dir, w.file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("..", "..", "testdata", "geoip", w.file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("testdata/geoip/%s is stale: run go run ./cmd/mkgeoip -out testdata/geoip", w.file)
		}
	}
}

func TestWorldReadableByGeoip2(t *testing.T) {
	w := allWriters()
	city, asn, anon := open(t, w[0], geotest.Options{}), open(t, w[1], geotest.Options{}), open(t, w[2], geotest.Options{})
	if got := city.Metadata().DatabaseType; got != geotest.CityType {
		t.Errorf("City database type %q", got)
	}
	if got := city.Metadata().BuildEpoch; got != geotest.BuildEpoch {
		t.Errorf("build epoch %d, want %d", got, geotest.BuildEpoch)
	}
	for _, p := range geotest.World {
		for n := range p.Networks {
			ip := p.AddrIn(n, 1000)
			addrs := []netip.Addr{ip}
			if ip.Is4() {
				addrs = append(addrs, netip.AddrFrom16(ip.As16())) // ::ffff:a.b.c.d
			}
			for _, ip := range addrs {
				checkPlace(t, city, asn, anon, ip, p)
			}
		}
	}
	for _, s := range []string{"8.8.8.8", "2606:4700::1111"} {
		c, err := city.City(netip.MustParseAddr(s))
		if err != nil || c.HasData() {
			t.Errorf("City(%s) = %+v, %v; want no data", s, c, err)
		}
	}
}

func checkPlace(t *testing.T, city, asn, anon *geoip2.Reader, ip netip.Addr, p geotest.Place) {
	t.Helper()
	c, err := city.City(ip)
	if err != nil {
		t.Fatalf("City(%s): %v", ip, err)
	}
	loc := c.Location
	if c.Country.ISOCode != p.Country || c.Country.Names.English != p.CountryName ||
		c.RegisteredCountry.ISOCode != p.Country || c.City.Names.English != p.City ||
		!loc.HasCoordinates() || *loc.Latitude != p.Lat || *loc.Longitude != p.Lon || int(loc.AccuracyRadius) != p.RadiusKm {
		t.Errorf("City(%s) = %+v, want %s", ip, c, p.Name)
	}
	if p.City == "" && c.City.HasData() {
		t.Errorf("City(%s): country-level place %s has a city record", ip, p.Name)
	}
	a, err := asn.ASN(ip)
	if err != nil || a.AutonomousSystemNumber != uint(p.ASN) || a.AutonomousSystemOrganization != p.Org {
		t.Errorf("ASN(%s) = %+v, %v; want %d %s", ip, a, err, p.ASN, p.Org)
	}
	an, err := anon.AnonymousIP(ip)
	if err != nil {
		t.Fatalf("AnonymousIP(%s): %v", ip, err)
	}
	want := geoip2.AnonymousIP{IsAnonymous: true}
	switch p.Kind {
	case geotest.KindVPN:
		want.IsAnonymousVPN = true
	case geotest.KindTor:
		want.IsTorExitNode = true
	case geotest.KindHosting:
		want.IsHostingProvider = true
	default:
		want = geoip2.AnonymousIP{}
	}
	want.IPAddress, want.Network = an.IPAddress, an.Network
	if *an != want {
		t.Errorf("AnonymousIP(%s) = %+v, want %+v (%s)", ip, an, want, p.Kind)
	}
}

func TestFiller(t *testing.T) {
	const n = 2000
	seq, err := geotest.Filler(n)
	if err != nil {
		t.Fatal(err)
	}
	var prefixes []netip.Prefix
	var places []geotest.Place
	v6 := 0
	for prefix, p := range seq {
		prefixes = append(prefixes, prefix)
		places = append(places, p)
		if prefix.Addr().Is6() {
			v6++
		}
	}
	if len(prefixes) != n || v6 < n/4 {
		t.Fatalf("Filler(%d) gave %d networks, %d IPv6", n, len(prefixes), v6)
	}

	var world []netip.Prefix
	for _, p := range geotest.World {
		for _, s := range p.Networks {
			world = append(world, netip.MustParsePrefix(s))
		}
	}
	for i, a := range prefixes {
		if !a.Addr().IsGlobalUnicast() || a.Addr().IsPrivate() {
			t.Errorf("filler %s is not public", a)
		}
		for _, w := range world {
			if a.Overlaps(w) {
				t.Errorf("filler %s overlaps World's %s", a, w)
			}
		}
		if i > 0 && a.Addr().Is4() == prefixes[i-1].Addr().Is4() && prefixes[i-1].Overlaps(a) {
			t.Errorf("filler %s overlaps %s", a, prefixes[i-1])
		}
	}

	opts, w := geotest.Options{Filler: n}, allWriters()
	city, asn := open(t, w[0], opts), open(t, w[1], opts)
	for i, prefix := range prefixes {
		p := places[i]
		c, err := city.City(prefix.Addr())
		if err != nil || c.Country.ISOCode != p.Country || c.City.Names.English != p.City || int(c.Location.AccuracyRadius) != p.RadiusKm {
			t.Fatalf("City(%s) = %+v, %v; want %+v", prefix.Addr(), c, err, p)
		}
		a, err := asn.ASN(prefix.Addr())
		if err != nil || a.AutonomousSystemNumber != uint(p.ASN) || a.AutonomousSystemOrganization != p.Org {
			t.Fatalf("ASN(%s) = %+v, %v; want %d %s", prefix.Addr(), a, err, p.ASN, p.Org)
		}
	}
	// World is still there, untouched.
	checkPlace(t, city, asn, open(t, w[2], opts), geotest.ByName("sydney").Addr(7), geotest.ByName("sydney"))
}

func TestFillerLimits(t *testing.T) {
	if _, err := geotest.Filler(-1); err == nil {
		t.Error("Filler(-1) did not fail")
	}
	if err := geotest.WriteASN(io.Discard, geotest.Options{Filler: geotest.MaxFiller + 1}); err == nil {
		t.Error("WriteASN with too much filler did not fail")
	}
}
