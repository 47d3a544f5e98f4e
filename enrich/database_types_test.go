package enrich

import (
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"go4.org/netipx"
)

// writeTypedDB is writeTestDB with a file name and an IP version of choice.
func writeTypedDB(t *testing.T, dir, name, dbType string, ipVersion int, nets []testNet) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, IPVersion: ipVersion, RecordSize: 28})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nets {
		if err := tree.Insert(netipx.PrefixIPNet(netip.MustParsePrefix(n.prefix)), n.value); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// A Country database given as geoip.city is refused: geoip2-golang accepts
// it for City lookups, but it has no city or location, so the travel rules
// would be silently off.
func TestCountryDatabaseRefusedAsCity(t *testing.T) {
	dir := t.TempDir()
	country := writeTypedDB(t, dir, "GeoLite2-Country.mmdb", "GeoLite2-Country", 6, []testNet{
		{"84.128.0.0/14", mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String("DE")}}},
	})
	en, err := New(Config{City: country}, nil)
	if err == nil {
		g, lerr := en.Locate(netip.MustParseAddr("84.128.1.1"))
		_ = en.Close()
		t.Fatalf("New accepted a GeoLite2-Country database as geoip.city; every lookup then has no location: Locate = %+v, %v", g, lerr)
	}
	if !strings.HasPrefix(err.Error(), keyCity+": ") {
		t.Errorf("New error %q does not name %s", err, keyCity)
	}
}

// A database built for IPv4 only is accepted, and an IPv6 address is simply
// not found in it rather than an error on every IPv6 sign-in.
func TestIPv4OnlyDatabase(t *testing.T) {
	dir := t.TempDir()
	city := writeTypedDB(t, dir, "city4.mmdb", "GeoLite2-City", 4, []testNet{{"84.128.0.0/14", mmdbtype.Map{
		"country":  mmdbtype.Map{"iso_code": mmdbtype.String("DE")},
		"location": mmdbtype.Map{"latitude": mmdbtype.Float64(52.52), "longitude": mmdbtype.Float64(13.405), "accuracy_radius": mmdbtype.Uint16(20)},
	}}})
	en, err := New(Config{City: city}, nil)
	if err != nil {
		t.Fatalf("New rejects a valid IPv4-only City database: %v", err)
	}
	defer en.Close()
	want := Geo{Kind: KindPublic, Country: "DE", Lat: 52.52, Lon: 13.405, RadiusKm: 20, HasLoc: true}
	if g, err := en.Locate(netip.MustParseAddr("84.128.1.1")); err != nil || g != want {
		t.Errorf("Locate(84.128.1.1) = %+v, %v; want %+v", g, err, want)
	}
	if g, err := en.Locate(netip.MustParseAddr("2003:e0::1")); err != nil || g != (Geo{Kind: KindUnknown}) {
		t.Errorf("Locate(2003:e0::1) in an IPv4-only database = %+v, %v; want KindUnknown without error", g, err)
	}
}

// A named pipe as a database path is refused, not opened: opening it would
// wait for a writer, and atod would hang at start-up.
func TestValidateRefusesFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "city.mmdb")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- Config{City: p}.Validate() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("Validate() = %v, want a 'not a regular file' error", err)
		}
	case <-time.After(3 * time.Second):
		t.Errorf("Validate() on a FIFO did not return within 3s (blocked in os.Open)")
		// Unblock the goroutine: a non-blocking writer open succeeds now
		// that a reader waits.
		if f, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			_ = f.Close()
		}
		<-done
	}
}

// A damaged City database's location outside the globe, or NaN, is no
// location: the travel rules must not measure from it.
func TestLocationOutsideGlobeIgnored(t *testing.T) {
	dir := t.TempDir()
	loc := func(lat, lon float64) mmdbtype.Map {
		return mmdbtype.Map{
			"country":  mmdbtype.Map{"iso_code": mmdbtype.String("DE")},
			"location": mmdbtype.Map{"latitude": mmdbtype.Float64(lat), "longitude": mmdbtype.Float64(lon), "accuracy_radius": mmdbtype.Uint16(20)},
		}
	}
	city := writeTypedDB(t, dir, "city.mmdb", "GeoLite2-City", 6, []testNet{
		{"84.128.0.0/16", loc(91, 13)},
		{"84.129.0.0/16", loc(52, -181)},
		{"84.130.0.0/16", loc(math.NaN(), 13)},
		{"84.131.0.0/16", loc(-90, 180)},
	})
	en, err := New(Config{City: city}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer en.Close()
	for ip, want := range map[string]bool{"84.128.1.1": false, "84.129.1.1": false, "84.130.1.1": false, "84.131.1.1": true} {
		g, err := en.Locate(netip.MustParseAddr(ip))
		if err != nil || g.HasLoc != want || g.Country != "DE" {
			t.Errorf("Locate(%s) = %+v, %v; want country DE, HasLoc %v", ip, g, err, want)
		}
	}
}
