package enrich

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/netip"
	"strings"
	"time"

	geoip2 "github.com/oschwald/geoip2-golang/v2"
	maxminddb "github.com/oschwald/maxminddb-golang/v2"
	"go.uber.org/zap"
)

// database is one MaxMind DB opened for lookups, with its record cache. A
// nil *database is a database that is not configured: every lookup misses.
//
// Lookups go through maxminddb-golang (which geoip2-golang is built on)
// rather than geoip2-golang's City/ASN methods: those decode the whole record
// into a 1 KB struct on every call (about 1 µs and 1 KB allocated), while
// atod needs five fields, and the record's offset, which only the lower
// layer exposes, is what makes the cache exact. geoip2-golang still decides
// at open whether a file is of a type that has the records we read.
type database[T any] struct {
	key    string // configuration key, for messages
	path   string
	reader *maxminddb.Reader
	cache  *recordCache[T]
	decode func(maxminddb.Result) (T, error)
}

// openDatabase opens path for lookups, or returns nil for an empty path.
// probe is the geoip2-golang method that must accept the file's type.
func openDatabase[T any](key, path string, probe func(*geoip2.Reader) error, decode func(maxminddb.Result) (T, error), cacheRecords int) (*database[T], error) {
	if path == "" {
		return nil, nil
	}
	if err := checkType(path, probe); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	reader, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return &database[T]{key: key, path: path, reader: reader, cache: newRecordCache[T](cacheRecords), decode: decode}, nil
}

// checkType rejects a file whose database type has not the records asked
// for, e.g. an ASN file given as geoip.city, with geoip2-golang's own list
// of types: otherwise every lookup would quietly find nothing.
func checkType(path string, probe func(*geoip2.Reader) error) error {
	r, err := geoip2.Open(path)
	if r != nil {
		defer r.Close() //nolint:errcheck // read-only; the error says nothing
	}
	if err != nil {
		if errors.As(err, new(*fs.PathError)) {
			return err // already names the path
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := probe(r); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// The probes look up 0.0.0.0, which every database holds a path for:
// maxminddb refuses any IPv6 address in a database built for IPv4 only.

// probeCity also refuses the Country databases that geoip2-golang's City
// method accepts for compatibility: they have neither city nor location, so
// the travel and new-location rules would be silently off.
func probeCity(r *geoip2.Reader) error {
	if _, err := r.City(netip.IPv4Unspecified()); err != nil {
		return err
	}
	if t := r.Metadata().DatabaseType; strings.Contains(t, "Country") {
		return fmt.Errorf("%s is a country database, with no city or location; a City database is needed", t)
	}
	return nil
}

func probeASN(r *geoip2.Reader) error {
	_, err := r.ASN(netip.IPv4Unspecified())
	return err
}

func probeAnonymousIP(r *geoip2.Reader) error {
	_, err := r.AnonymousIP(netip.IPv4Unspecified())
	return err
}

// lookup finds ip's record; ip must be normalized. It reports whether the
// database has one, and whether the network that gave the answer (a
// record's, or an empty one's) holds all of ip's cache network (netKey), so
// that every address there gets the same answer.
func (d *database[T]) lookup(ip netip.Addr) (v T, found, whole bool, err error) {
	if d == nil {
		return v, false, true, nil
	}
	if ip.Is6() && d.reader.Metadata.IPVersion == 4 {
		return v, false, true, nil // an IPv4-only database knows no IPv6 network
	}
	res := d.reader.Lookup(ip)
	if err := res.Err(); err != nil {
		return v, false, false, fmt.Errorf("%s: looking up %s: %w", d.key, ip, err)
	}
	whole = holdsNet(res.Prefix(), ip)
	if !res.Found() {
		return v, false, whole, nil
	}
	offset := uint64(res.Offset())
	if v, ok := d.cache.get(offset); ok {
		return v, true, whole, nil
	}
	if v, err = d.decode(res); err != nil {
		return v, false, false, fmt.Errorf("%s: decoding the record of %s: %w", d.key, ip, err)
	}
	d.cache.put(offset, v)
	return v, true, whole, nil
}

// netBits4 and netBits6 are the size of the networks whose answers the
// Enricher caches: one home or office network is usually one of them, and
// GeoIP databases rarely split them.
const (
	netBits4 = 24
	netBits6 = 48
)

// netKey returns the cache key of ip's /24 (IPv4) or /48 (IPv6) network;
// ip must be normalized. The two kinds never share a key: an IPv6 key
// fits in 48 bits, an IPv4 key has bit 48 set.
func netKey(ip netip.Addr) uint64 {
	if ip.Is4() {
		a := ip.As4()
		return 1<<48 | uint64(a[0])<<16 | uint64(a[1])<<8 | uint64(a[2])
	}
	a := ip.As16()
	return uint64(a[0])<<40 | uint64(a[1])<<32 | uint64(a[2])<<24 | uint64(a[3])<<16 | uint64(a[4])<<8 | uint64(a[5])
}

// holdsNet reports whether prefix, the network a lookup of ip ended in,
// holds all of ip's cache network. For an IPv4 address in a database of
// IPv6 networks that ended above the IPv4 subtree, the prefix is an IPv6
// one that holds all of IPv4.
func holdsNet(prefix netip.Prefix, ip netip.Addr) bool {
	if !prefix.IsValid() {
		return false
	}
	if ip.Is4() {
		return !prefix.Addr().Is4() || prefix.Bits() <= netBits4
	}
	return prefix.Addr().Is6() && prefix.Bits() <= netBits6
}

func (d *database[T]) logOpened(log *zap.Logger) {
	if d == nil {
		return
	}
	m := d.reader.Metadata
	log.Info("GeoIP database opened", zap.String("key", d.key), zap.String("path", d.path),
		zap.String("type", m.DatabaseType), zap.Time("built", time.Unix(int64(m.BuildEpoch), 0).UTC()),
		zap.Uint("nodes", m.NodeCount))
}

func (d *database[T]) close() error {
	if d == nil {
		return nil
	}
	if err := d.reader.Close(); err != nil {
		return fmt.Errorf("%s: closing: %w", d.key, err)
	}
	return nil
}

// cityRecord is what atod reads of a City record.
type cityRecord struct {
	country, city string
	lat, lon      float64
	radiusKm      int
	hasLoc        bool
}

func decodeCity(res maxminddb.Result) (cityRecord, error) {
	var rec struct {
		City struct {
			Names struct {
				English string `maxminddb:"en"`
			} `maxminddb:"names"`
		} `maxminddb:"city"`
		Country struct {
			ISOCode string `maxminddb:"iso_code"`
		} `maxminddb:"country"`
		Location struct {
			Latitude       *float64 `maxminddb:"latitude"`
			Longitude      *float64 `maxminddb:"longitude"`
			AccuracyRadius uint16   `maxminddb:"accuracy_radius"`
		} `maxminddb:"location"`
	}
	if err := res.Decode(&rec); err != nil {
		return cityRecord{}, err
	}
	c := cityRecord{country: rec.Country.ISOCode, city: rec.City.Names.English}
	// A location outside the globe (or NaN) from a damaged file is no
	// location: distances from it would be nonsense.
	if loc := rec.Location; loc.Latitude != nil && loc.Longitude != nil &&
		math.Abs(*loc.Latitude) <= 90 && math.Abs(*loc.Longitude) <= 180 {
		c.lat, c.lon, c.hasLoc = *loc.Latitude, *loc.Longitude, true
		c.radiusKm = int(loc.AccuracyRadius)
	}
	return c, nil
}

// asnRecord is what atod reads of an ASN record.
type asnRecord struct {
	number uint32
	org    string
}

func decodeASN(res maxminddb.Result) (asnRecord, error) {
	var rec struct {
		Number uint32 `maxminddb:"autonomous_system_number"`
		Org    string `maxminddb:"autonomous_system_organization"`
	}
	if err := res.Decode(&rec); err != nil {
		return asnRecord{}, err
	}
	return asnRecord{number: rec.Number, org: rec.Org}, nil
}

// decodeAnonymous reduces the Anonymous-IP flags to the one that tells most,
// in the order of the Anonymous* constants.
func decodeAnonymous(res maxminddb.Result) (string, error) {
	var rec struct {
		VPN              bool `maxminddb:"is_anonymous_vpn"`
		Hosting          bool `maxminddb:"is_hosting_provider"`
		PublicProxy      bool `maxminddb:"is_public_proxy"`
		ResidentialProxy bool `maxminddb:"is_residential_proxy"`
		TorExit          bool `maxminddb:"is_tor_exit_node"`
	}
	if err := res.Decode(&rec); err != nil {
		return "", err
	}
	switch {
	case rec.TorExit:
		return AnonymousTor, nil
	case rec.VPN:
		return AnonymousVPN, nil
	case rec.PublicProxy:
		return AnonymousProxy, nil
	case rec.ResidentialProxy:
		return AnonymousResidentialProxy, nil
	case rec.Hosting:
		return AnonymousHosting, nil
	}
	return "", nil
}
