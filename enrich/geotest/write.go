package geotest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"go4.org/netipx"
)

// File names of the test databases, as WriteFiles writes them and as
// testdata/geoip holds them.
const (
	CityFile        = "atod-test-City.mmdb"
	ASNFile         = "atod-test-ASN.mmdb"
	AnonymousIPFile = "atod-test-Anonymous-IP.mmdb"
)

// Database types written into the metadata. They are MaxMind's own names
// because geoip2-golang picks its decoders by them.
const (
	CityType        = "GeoLite2-City"
	ASNType         = "GeoLite2-ASN"
	AnonymousIPType = "GeoIP2-Anonymous-IP"
)

// BuildEpoch is the build time written into every test database
// (2026-01-01T00:00:00Z). It is fixed so that the same World gives the same
// bytes on every run and the checked-in files only change when World does.
const BuildEpoch = 1767225600

// Options change what the writers add beside World. The zero value writes
// World only, which is what testdata/geoip holds.
type Options struct {
	// Filler pads each database with this many extra networks outside
	// World's, so that benchmarks can run against a database of realistic
	// size (GeoLite2-City has a few million networks). See Filler.
	Filler int
}

// WriteCity writes a City database (GeoLite2-City record layout) for every
// place of World, plus the filler networks.
func WriteCity(w io.Writer, opts Options) error {
	return writeTree(w, CityType, "atod test City database; locations are fictional", func(t *mmdbwriter.Tree) error {
		for _, p := range World {
			if err := insertPlace(t, p, cityRecord(p)); err != nil {
				return err
			}
		}
		pools := newFillerPools()
		return eachFiller(opts.Filler, func(f fillerNet) error {
			return insert(t, f.prefix, pools.cityValues[f.city])
		})
	})
}

// WriteASN writes an ASN database (GeoLite2-ASN record layout) for every
// place of World, plus the filler networks.
func WriteASN(w io.Writer, opts Options) error {
	return writeTree(w, ASNType, "atod test ASN database; assignments are fictional", func(t *mmdbwriter.Tree) error {
		for _, p := range World {
			if err := insertPlace(t, p, asnRecord(p.ASN, p.Org)); err != nil {
				return err
			}
		}
		pools := newFillerPools()
		return eachFiller(opts.Filler, func(f fillerNet) error {
			return insert(t, f.prefix, pools.asnValues[f.asn])
		})
	})
}

// WriteAnonymousIP writes an Anonymous-IP database (GeoIP2-Anonymous-IP
// record layout) for the places of World whose Kind is vpn, tor or hosting,
// plus the filler networks of kind hosting.
func WriteAnonymousIP(w io.Writer, opts Options) error {
	return writeTree(w, AnonymousIPType, "atod test Anonymous-IP database; flags are fictional", func(t *mmdbwriter.Tree) error {
		for _, p := range World {
			rec, ok := anonymousRecord(p.Kind)
			if !ok {
				continue
			}
			if err := insertPlace(t, p, rec); err != nil {
				return err
			}
		}
		hosting, _ := anonymousRecord(KindHosting)
		return eachFiller(opts.Filler, func(f fillerNet) error {
			if !f.hosting {
				return nil
			}
			return insert(t, f.prefix, hosting)
		})
	})
}

// WriteFiles writes CityFile, ASNFile and AnonymousIPFile into dir, creating
// dir if needed.
func WriteFiles(dir string, opts Options) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	writers := []struct {
		name  string
		write func(io.Writer, Options) error
	}{
		{CityFile, WriteCity},
		{ASNFile, WriteASN},
		{AnonymousIPFile, WriteAnonymousIP},
	}
	for _, wr := range writers {
		if err := writeFile(filepath.Join(dir, wr.name), opts, wr.write); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes through a temporary file and renames it, so that a
// reader never maps a half-written database.
func writeFile(path string, opts Options, write func(io.Writer, Options) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, os.Remove(tmp.Name()))
		}
	}()
	if err := write(tmp, opts); err != nil {
		return errors.Join(fmt.Errorf("writing %s: %w", path, err), tmp.Close())
	}
	if err := tmp.Chmod(0o644); err != nil {
		return errors.Join(fmt.Errorf("writing %s: %w", path, err), tmp.Close())
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// writeTree builds one IPv6 tree (IPv4 under ::/96 and aliased from
// ::ffff:0:0/96, as MaxMind's own databases do) and writes it to w.
func writeTree(w io.Writer, dbType, description string, fill func(*mmdbwriter.Tree) error) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		BuildEpoch:   BuildEpoch,
		DatabaseType: dbType,
		Description:  map[string]string{"en": description},
		Languages:    []string{"en"},
		IPVersion:    6,
		RecordSize:   28,
		KeyGenerator: &identityKeys{},
	})
	if err != nil {
		return fmt.Errorf("creating %s tree: %w", dbType, err)
	}
	if err := fill(tree); err != nil {
		return fmt.Errorf("building %s: %w", dbType, err)
	}
	if _, err := tree.WriteTo(w); err != nil {
		return fmt.Errorf("writing %s: %w", dbType, err)
	}
	return nil
}

// identityKeys deduplicates records by identity instead of by a SHA-256 of
// their serialisation (mmdbwriter's default): every record here is built
// once and shared by all its networks, so identity and content agree, and a
// million filler inserts skip a million hashes (a third of the build time).
// The keys never reach the output, which stays deterministic.
type identityKeys struct{ buf [8]byte }

func (k *identityKeys) Key(v mmdbtype.DataType) ([]byte, error) {
	m, ok := v.(mmdbtype.Map)
	if !ok {
		return nil, fmt.Errorf("record is a %T, not a map", v)
	}
	binary.LittleEndian.PutUint64(k.buf[:], uint64(reflect.ValueOf(m).Pointer()))
	return k.buf[:], nil
}

func insertPlace(t *mmdbwriter.Tree, p Place, value mmdbtype.DataType) error {
	for _, network := range p.Networks {
		prefix, err := netip.ParsePrefix(network)
		if err != nil {
			return fmt.Errorf("place %s: %w", p.Name, err)
		}
		if err := insert(t, prefix, value); err != nil {
			return fmt.Errorf("place %s: %w", p.Name, err)
		}
	}
	return nil
}

func insert(t *mmdbwriter.Tree, prefix netip.Prefix, value mmdbtype.DataType) error {
	if err := t.Insert(netipx.PrefixIPNet(prefix.Masked()), value); err != nil {
		return fmt.Errorf("inserting %s: %w", prefix, err)
	}
	return nil
}

// cityRecord lays a place out as MaxMind's City record. A country-level
// place has no city record but still a location with a wide radius, as
// MaxMind gives mobile carriers.
func cityRecord(p Place) mmdbtype.Map {
	country := mmdbtype.Map{
		"iso_code": mmdbtype.String(p.Country),
		"names":    mmdbtype.Map{"en": mmdbtype.String(p.CountryName)},
	}
	rec := mmdbtype.Map{
		"country":            country,
		"registered_country": country,
		"location": mmdbtype.Map{
			"latitude":        mmdbtype.Float64(p.Lat),
			"longitude":       mmdbtype.Float64(p.Lon),
			"accuracy_radius": mmdbtype.Uint16(p.RadiusKm),
		},
	}
	if p.City != "" {
		rec["city"] = mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(p.City)}}
	}
	return rec
}

func asnRecord(asn uint32, org string) mmdbtype.Map {
	return mmdbtype.Map{
		"autonomous_system_number":       mmdbtype.Uint32(asn),
		"autonomous_system_organization": mmdbtype.String(org),
	}
}

// Place kinds that the Anonymous-IP database flags.
const (
	KindVPN     = "vpn"
	KindTor     = "tor"
	KindHosting = "hosting"
)

// anonymousRecord returns the Anonymous-IP flags for a place kind, and false
// for kinds that database does not list. is_anonymous is set for all of
// them, as MaxMind sets it whenever any other flag is.
func anonymousRecord(kind string) (mmdbtype.Map, bool) {
	var flag string
	switch kind {
	case KindVPN:
		flag = "is_anonymous_vpn"
	case KindTor:
		flag = "is_tor_exit_node"
	case KindHosting:
		flag = "is_hosting_provider"
	default:
		return nil, false
	}
	return mmdbtype.Map{"is_anonymous": mmdbtype.Bool(true), mmdbtype.String(flag): mmdbtype.Bool(true)}, true
}
