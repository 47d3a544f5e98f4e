package enrich

import (
	"errors"
	"net/netip"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go4.org/netipx"

	"github.com/atod-project/atod/ingest"
)

// Enricher answers Locate from the configured GeoIP databases and trusted
// networks. It is safe for concurrent use; Close must wait until no call is
// running.
type Enricher struct {
	// log is sampled: a corrupt database fails on every event, and one line
	// a minute says that as well as a million.
	log     *zap.Logger
	city    *database[cityRecord]
	asn     *database[asnRecord]
	anon    *database[string]
	trusted *netipx.IPSet
	// nets keeps the databases' answers by /24 or /48 network (netKey),
	// for networks each database holds whole: a hit skips three tree
	// walks. Kind is set, Trusted is not: trusted networks may be smaller.
	nets *recordCache[Geo]
}

var _ Locator = (*Enricher)(nil)

// New validates cfg and opens the databases it names. Any database may be
// left unconfigured; the Enricher then still classifies addresses and marks
// trusted ones, and public addresses become KindUnknown. log may be nil.
func New(cfg Config, log *zap.Logger) (*Enricher, error) {
	return newEnricher(cfg, log, defaultCacheRecords)
}

// newEnricher is New with the size of each database's record cache; 0 turns
// caching off (benchmarks compare both).
func newEnricher(cfg Config, log *zap.Logger, cacheRecords int) (_ *Enricher, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	trusted, err := cfg.trustedSet()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	log = log.Named("enrich")
	en := &Enricher{
		log: log.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
			return zapcore.NewSamplerWithOptions(c, time.Minute, 1, 0)
		})),
		trusted: trusted,
		nets:    newRecordCache[Geo](cacheRecords),
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, en.Close())
		}
	}()
	if en.city, err = openDatabase(keyCity, cfg.City, probeCity, decodeCity, cacheRecords); err != nil {
		return nil, err
	}
	if en.asn, err = openDatabase(keyASN, cfg.ASN, probeASN, decodeASN, cacheRecords); err != nil {
		return nil, err
	}
	if en.anon, err = openDatabase(keyAnonymousIP, cfg.AnonymousIP, probeAnonymousIP, decodeAnonymous, cacheRecords); err != nil {
		return nil, err
	}
	en.logOpened(log)
	return en, nil
}

// logOpened says once at start what each database is, so that an operator
// can tell from the log which build produced which alerts, and warns when
// there are no locations, which leaves the travel rules blind.
func (en *Enricher) logOpened(log *zap.Logger) {
	en.city.logOpened(log)
	en.asn.logOpened(log)
	en.anon.logOpened(log)
	if en.city == nil {
		log.Warn("geoip.city is not configured: public addresses have no location, so travel and new-location rules cannot fire")
	}
	log.Debug("trusted networks", zap.Int("ranges", len(en.trusted.Ranges())))
}

// Enrich adds what the databases know about e.IP. It also rewrites e.IP in
// its canonical form (IPv4-mapped IPv6 unmapped, zone dropped), so that later
// stages count ::ffff:192.0.2.1 and 192.0.2.1 as one address. A lookup that
// fails is logged (sampled) and leaves the fields it could not fill empty:
// one bad record must not stop the stream.
func (en *Enricher) Enrich(e ingest.Event) Event {
	// The result is built in place: Geo and the event are large, and
	// copying them through Locate's return and a composite literal cost
	// more than the lookup itself when the network cache answers.
	out := Event{Event: e}
	if out.IP.IsValid() {
		out.IP = normalize(out.IP)
	}
	if err := en.locate(&out.Geo, out.IP); err != nil {
		en.log.Warn("GeoIP lookup failed", zap.Error(err))
	}
	return out
}

// Locate classifies ip and, for a public address, looks it up in every
// configured database. On error the returned Geo still holds what the other
// databases found.
func (en *Enricher) Locate(ip netip.Addr) (Geo, error) {
	var geo Geo
	err := en.locate(&geo, normalize(ip))
	return geo, err
}

// locate is Locate of a normalized address into geo, which must be zero.
func (en *Enricher) locate(geo *Geo, ip netip.Addr) error {
	if !ip.IsValid() {
		geo.Kind = KindNone
		return nil
	}
	kind, trusted := classify(ip), en.trusted.Contains(ip)
	if kind != KindPublic {
		geo.Kind, geo.Trusted = kind, trusted
		return nil
	}

	key := netKey(ip)
	if g := en.nets.ref(key); g != nil {
		*geo = *g
		geo.Trusted = trusted
		return nil
	}
	geo.Kind = kind
	city, found, wholeCity, errCity := en.city.lookup(ip)
	if found {
		geo.Country, geo.City = city.country, city.city
		geo.Lat, geo.Lon, geo.RadiusKm, geo.HasLoc = city.lat, city.lon, city.radiusKm, city.hasLoc
	} else {
		geo.Kind = KindUnknown
	}
	asn, _, wholeASN, errASN := en.asn.lookup(ip)
	geo.ASN, geo.Org = asn.number, asn.org
	anon, _, wholeAnon, errAnon := en.anon.lookup(ip)
	geo.Anonymous = anon
	if errCity != nil || errASN != nil || errAnon != nil {
		geo.Trusted = trusted
		return errors.Join(errCity, errASN, errAnon)
	}
	if wholeCity && wholeASN && wholeAnon {
		en.nets.put(key, *geo) // Trusted is still false: see nets
	}
	geo.Trusted = trusted
	return nil
}

// Close releases the databases. No Enrich or Locate call may be running or
// start afterwards.
func (en *Enricher) Close() error {
	return errors.Join(en.city.close(), en.asn.close(), en.anon.close())
}
