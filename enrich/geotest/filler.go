package geotest

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"math/bits"
	"net/netip"
	"slices"

	"github.com/maxmind/mmdbwriter/mmdbtype"
	"go4.org/netipx"
)

// Filler sizes. The pools are a few thousand entries, like the distinct
// records of a real database, so its data section has a realistic size too.
const (
	fillerCities = 4096
	fillerASNs   = 8192
)

// MaxFiller is the largest Options.Filler: IPv6 filler networks each get a
// /32 slot of 2400::/8, which has 2^24 of them.
const MaxFiller = 1 << 24

// Filler returns the n networks that Options{Filler: n} adds, each with the
// made-up place it is given (Networks is nil: the prefix is the network).
// They are pseudo-random but the same on every call: three in four are IPv4
// ranges from /21 to /27 spread over the public IPv4 space (for n near one
// million), the rest IPv6 ranges in 2400::/8. None overlaps World or a
// special-purpose range. Benchmarks use it to pick addresses that hit.
func Filler(n int) (iter.Seq2[netip.Prefix, Place], error) {
	if err := checkFiller(n); err != nil {
		return nil, err
	}
	return func(yield func(netip.Prefix, Place) bool) {
		pools := newFillerPools()
		stop := errors.New("stop")
		_ = eachFiller(n, func(f fillerNet) error {
			p := pools.cities[f.city]
			p.ASN, p.Org = pools.asns[f.asn].number, pools.asns[f.asn].org
			if f.hosting {
				p.Kind = KindHosting
			}
			if !yield(f.prefix, p) {
				return stop
			}
			return nil
		})
	}, nil
}

func checkFiller(n int) error {
	if n < 0 || n > MaxFiller {
		return fmt.Errorf("filler: %d networks is outside 0..%d", n, MaxFiller)
	}
	return nil
}

// fillerNet is one filler network with indexes into the pools.
type fillerNet struct {
	prefix    netip.Prefix
	city, asn int
	hosting   bool
}

type fillerASN struct {
	number uint32
	org    string
}

// fillerPools holds the made-up places and ASNs and their prebuilt records,
// so that a million inserts share a few thousand values.
type fillerPools struct {
	cities     []Place
	asns       []fillerASN
	cityValues []mmdbtype.DataType
	asnValues  []mmdbtype.DataType
}

func newFillerPools() *fillerPools {
	rng := splitmix(0xa70d)
	countries := fillerCountries()
	p := &fillerPools{}
	for i := range fillerCities {
		c := countries[rng.intn(len(countries))]
		place := Place{
			Name:        fmt.Sprintf("filler-%d", i),
			Country:     c[0],
			CountryName: c[1],
			City:        rng.name(),
			Lat:         math.Round((rng.float()*125-55)*1e4) / 1e4,
			Lon:         math.Round((rng.float()*360-180)*1e4) / 1e4,
			RadiusKm:    []int{5, 10, 20, 20, 50, 100, 200, 500}[rng.intn(8)],
			Kind:        "residential",
		}
		if rng.intn(10) == 0 { // country-level, like mobile carriers
			place.City, place.RadiusKm = "", 1000
		}
		p.cities = append(p.cities, place)
		p.cityValues = append(p.cityValues, cityRecord(place))
	}
	suffixes := []string{"Telecom", "Networks Ltd", "Broadband", "Communications", "Internet Services", "Cable", "Mobile", "Online"}
	for i := range fillerASNs {
		a := fillerASN{number: 131072 + uint32(i)*7 + uint32(rng.intn(7)), org: rng.name() + " " + suffixes[rng.intn(len(suffixes))]}
		if i%16 == 0 {
			a.org = rng.name() + " Hosting"
		}
		p.asns = append(p.asns, a)
		p.asnValues = append(p.asnValues, asnRecord(a.number, a.org))
	}
	return p
}

// eachFiller calls fn for each of n filler networks, IPv4 first. IPv4
// networks are placed one per equal slot of 1.0.0.0–223.255.255.255; a slot
// whose network would overlap World or a special-purpose range is skipped
// and its network goes to IPv6 instead, so that exactly n are made.
func eachFiller(n int, fn func(fillerNet) error) error {
	if err := checkFiller(n); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	blocked, err := blockedSet()
	if err != nil {
		return err
	}
	rng := splitmix(uint64(n))
	next := func(prefix netip.Prefix) fillerNet {
		asn := rng.intn(fillerASNs)
		return fillerNet{prefix: prefix, city: rng.intn(fillerCities), asn: asn, hosting: asn%16 == 0}
	}

	const v4First, v4End = 1 << 24, 224 << 24
	wantV4 := n - n/4
	made := 0
	if wantV4 > 0 {
		stride := uint64(v4End-v4First) / uint64(wantV4)
		// A block at most half the slot always finds an aligned start in it.
		maxBits := min(bits.Len64(stride)-2, 16)
		for slot := range uint64(wantV4) {
			hostBits := max(0, maxBits-rng.intn(7))
			size := uint64(1) << hostBits
			start := v4First + slot*stride + rng.uint64n(stride-2*size+1)
			start = (start + size - 1) &^ (size - 1)
			a := uint32(start)
			prefix := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), 32-hostBits)
			if blocked.overlaps(prefix) {
				continue
			}
			if err := fn(next(prefix)); err != nil {
				return err
			}
			made++
		}
	}
	for slot := 0; made < n; slot++ {
		prefixLen := 32 + rng.intn(17)
		sub := rng.uint64n(1<<(prefixLen-32)) << (48 - prefixLen)
		var b [16]byte
		b[0], b[1], b[2], b[3] = 0x24, byte(slot>>16), byte(slot>>8), byte(slot)
		b[4], b[5] = byte(sub>>8), byte(sub)
		prefix := netip.PrefixFrom(netip.AddrFrom16(b), prefixLen)
		if blocked.overlaps(prefix) {
			continue
		}
		if err := fn(next(prefix)); err != nil {
			return err
		}
		made++
	}
	return nil
}

// blockedRanges are the sorted, disjoint ranges filler must not touch.
type blockedRanges []netipx.IPRange

// overlaps reports whether p touches a blocked range, by binary search:
// netipx.IPSet.OverlapsPrefix scans every range, which was 15% of a
// million-network build.
func (b blockedRanges) overlaps(p netip.Prefix) bool {
	r := netipx.RangeOfPrefix(p)
	i, _ := slices.BinarySearchFunc(b, r.From(), func(x netipx.IPRange, a netip.Addr) int {
		return x.To().Compare(a)
	})
	return i < len(b) && b[i].From().Compare(r.To()) <= 0
}

// blockedSet is World's networks and the special-purpose ranges no public
// database lists (mmdbwriter refuses most of them anyway).
func blockedSet() (blockedRanges, error) {
	var b netipx.IPSetBuilder
	special := []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
		"172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
		"198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3",
		"::/8", "2001::/23", "2001:db8::/32", "2002::/16", "fc00::/7", "fe80::/10", "ff00::/8",
	}
	for _, s := range special {
		b.AddPrefix(netip.MustParsePrefix(s))
	}
	for _, p := range World {
		for _, network := range p.Networks {
			prefix, err := netip.ParsePrefix(network)
			if err != nil {
				return nil, fmt.Errorf("place %s: %w", p.Name, err)
			}
			b.AddPrefix(prefix.Masked())
		}
	}
	set, err := b.IPSet()
	if err != nil {
		return nil, fmt.Errorf("building blocked ranges: %w", err)
	}
	return set.Ranges(), nil
}

func fillerCountries() [][2]string {
	return [][2]string{
		{"DE", "Germany"}, {"AT", "Austria"}, {"CH", "Switzerland"}, {"FR", "France"},
		{"GB", "United Kingdom"}, {"NL", "Netherlands"}, {"ES", "Spain"}, {"IT", "Italy"},
		{"PL", "Poland"}, {"SE", "Sweden"}, {"US", "United States"}, {"CA", "Canada"},
		{"BR", "Brazil"}, {"MX", "Mexico"}, {"AR", "Argentina"}, {"NG", "Nigeria"},
		{"ZA", "South Africa"}, {"EG", "Egypt"}, {"RU", "Russia"}, {"TR", "Turkey"},
		{"IN", "India"}, {"CN", "China"}, {"JP", "Japan"}, {"KR", "South Korea"},
		{"SG", "Singapore"}, {"ID", "Indonesia"}, {"AU", "Australia"}, {"NZ", "New Zealand"},
	}
}

// rng is SplitMix64: tiny, fast and fully specified here, so the filler
// stays the same across Go releases (math/rand makes no such promise).
type rng struct{ state uint64 }

func splitmix(seed uint64) *rng { return &rng{state: seed} }

func (r *rng) uint64() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// uint64n returns a value in [0, n); the modulo bias is irrelevant here.
func (r *rng) uint64n(n uint64) uint64 { return r.uint64() % n }

func (r *rng) intn(n int) int { return int(r.uint64n(uint64(n))) }

func (r *rng) float() float64 { return float64(r.uint64()>>11) / (1 << 53) }

// name makes up a pronounceable place or company name.
func (r *rng) name() string {
	syllables := []string{"ka", "lo", "mer", "vin", "ta", "sel", "dor", "an", "bri", "co", "nu", "phe", "ra", "sten", "wal", "zi", "har", "bel", "ost", "min"}
	b := []byte{}
	for i := range 2 + r.intn(2) {
		s := syllables[r.intn(len(syllables))]
		if i == 0 {
			b = append(b, s[0]-'a'+'A')
			s = s[1:]
		}
		b = append(b, s...)
	}
	return string(b)
}
