package enrich

import (
	"errors"
	"fmt"
	"net/netip"
	"os"

	"go4.org/netipx"
)

// Config says which GeoIP databases to read and which networks to trust.
// cmd/atod fills it from the YAML keys named in the field comments; every
// error of Validate and New names the key, so that a bad value is found
// from the message alone.
type Config struct {
	// City is the path of a GeoIP2/GeoLite2 City database (geoip.city).
	// Empty: no locations; public addresses are KindUnknown.
	City string
	// ASN is the path of a GeoLite2 ASN database (geoip.asn). Empty: no
	// ASN or organisation.
	ASN string
	// AnonymousIP is the path of a GeoIP2 Anonymous IP database
	// (geoip.anonymous_ip). Empty: Geo.Anonymous stays "".
	AnonymousIP string
	// TrustedNetworks are CIDRs or single addresses (trusted_networks), such
	// as corporate egress and VPN concentrators: sign-ins from them are never
	// evidence of travel or attack.
	TrustedNetworks []string
}

// Configuration keys, as they appear in messages.
const (
	keyCity        = "geoip.city"
	keyASN         = "geoip.asn"
	keyAnonymousIP = "geoip.anonymous_ip"
	keyTrusted     = "trusted_networks"
)

// Validate checks every value without opening the databases for lookups, and
// reports all problems at once, each naming its key.
func (c Config) Validate() error {
	var errs []error
	for _, db := range c.databases() {
		if db.path == "" {
			continue
		}
		if err := checkReadable(db.path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", db.key, err))
		}
	}
	if _, err := c.trustedSet(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

type configuredDB struct{ key, path string }

func (c Config) databases() []configuredDB {
	return []configuredDB{{keyCity, c.City}, {keyASN, c.ASN}, {keyAnonymousIP, c.AnonymousIP}}
}

// checkReadable opens path, so that a missing file or a permission problem is
// reported with the key before any lookup could fail on it. It looks before
// it opens: opening a named pipe would wait for a writer.
func checkReadable(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return f.Close()
}

// trustedSet parses TrustedNetworks into one set. Single addresses become
// /32 or /128; host bits of a CIDR are ignored (10.1.2.3/8 is 10.0.0.0/8);
// IPv4-mapped IPv6 networks are turned into IPv4 ones, because addresses are
// unmapped before they are compared.
func (c Config) trustedSet() (*netipx.IPSet, error) {
	var (
		b    netipx.IPSetBuilder
		errs []error
	)
	for i, s := range c.TrustedNetworks {
		prefix, ok := parseNetwork(s)
		if !ok {
			errs = append(errs, fmt.Errorf("%s[%d]: %q is not a CIDR", keyTrusted, i, s))
			continue
		}
		b.AddPrefix(prefix)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	set, err := b.IPSet()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyTrusted, err)
	}
	return set, nil
}

func parseNetwork(s string) (netip.Prefix, bool) {
	prefix, err := netip.ParsePrefix(s)
	if err != nil {
		addr, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		addr = addr.WithZone("")
		prefix = netip.PrefixFrom(addr, addr.BitLen())
	}
	if addr := prefix.Addr(); addr.Is4In6() && prefix.Bits() >= 96 {
		prefix = netip.PrefixFrom(addr.Unmap(), prefix.Bits()-96)
	}
	return prefix.Masked(), true
}
