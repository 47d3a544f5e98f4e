// Package enrich adds what an address says about a sign-in: where it is
// (GeoIP2/GeoLite2 City), who routes it (ASN), and whether it belongs to a
// network the operator trusts or has tagged.
package enrich

import (
	"net/netip"

	"github.com/atod-project/atod/ingest"
)

// Kind classifies an address before any database is asked, so that private
// and loopback addresses are never given a guessed location.
type Kind string

// Address kinds.
const (
	KindNone     Kind = ""         // the event carries no address
	KindPublic   Kind = "public"   // a public address found in the City database
	KindUnknown  Kind = "unknown"  // a public address the databases do not know
	KindPrivate  Kind = "private"  // RFC 1918, unique-local, link-local, CGNAT
	KindLoopback Kind = "loopback" // 127.0.0.0/8, ::1
)

// Geo is what atod knows about one address. Zero fields mean unknown.
type Geo struct {
	Kind     Kind    `json:"kind,omitempty"`
	Country  string  `json:"country,omitempty"` // ISO 3166-1 alpha-2
	City     string  `json:"city,omitempty"`
	Lat      float64 `json:"lat,omitempty"`
	Lon      float64 `json:"lon,omitempty"`
	RadiusKm int     `json:"radius_km,omitempty"` // accuracy radius around Lat/Lon
	HasLoc   bool    `json:"has_location,omitempty"`
	ASN      uint32  `json:"asn,omitempty"`
	Org      string  `json:"org,omitempty"`
	Trusted  bool    `json:"trusted,omitempty"` // in trusted_networks: never evidence of travel or attack
	// Anonymous says how the address hides its user, from the optional
	// Anonymous-IP database: one of the Anonymous* values, or "" when the
	// address is not listed or that database is not configured.
	Anonymous string `json:"anonymous,omitempty"`
}

// Values of Geo.Anonymous. When the database sets several flags the first
// of this list wins, most telling first: a Tor exit says more about a
// sign-in than the hosting company it runs at.
const (
	AnonymousTor              = "tor"
	AnonymousVPN              = "vpn"
	AnonymousProxy            = "proxy"
	AnonymousResidentialProxy = "residential_proxy"
	AnonymousHosting          = "hosting"
)

// Event is a canonical event with what enrichment learned about its address.
type Event struct {
	ingest.Event
	Geo Geo `json:"geo"`
	// Early is set by live mode for an event later than the clock allowed
	// when it came (detector.Pipeline.Hold): it runs out of order, and
	// must be known as such whenever it runs, however the clock moved.
	Early bool `json:"-"`
}

// Locator answers where an address is. Implementations are safe for
// concurrent use; Locate never blocks on the network.
type Locator interface {
	Locate(ip netip.Addr) (Geo, error)
}
