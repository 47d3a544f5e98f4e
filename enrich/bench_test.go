package enrich

import (
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/atod-project/atod/enrich/geotest"
	"github.com/atod-project/atod/ingest"
)

// BenchmarkEnrich measures one event through Enrich, with and without the
// record cache, against the small test world and against databases padded
// with filler networks to a realistic size: 200,000 by default, more with
// ATOD_BENCH_FILLER=1000000 (writing those takes about 15 s).
//
// Addresses are spread over many networks in a shuffled order, with a few
// private and unknown ones, so that neither the tree walk nor the cache sees
// an unrealistically friendly pattern.
func BenchmarkEnrich(b *testing.B) {
	filler := 200_000
	if s := os.Getenv("ATOD_BENCH_FILLER"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("ATOD_BENCH_FILLER: %v", err)
		}
		filler = n
	}
	dir := b.TempDir()
	if err := geotest.WriteFiles(dir, geotest.Options{Filler: filler}); err != nil {
		b.Fatal(err)
	}
	big := Config{
		City:            filepath.Join(dir, geotest.CityFile),
		ASN:             filepath.Join(dir, geotest.ASNFile),
		AnonymousIP:     filepath.Join(dir, geotest.AnonymousIPFile),
		TrustedNetworks: testdataConfig().TrustedNetworks,
	}
	sets := []struct {
		name   string
		cfg    Config
		events []ingest.Event
	}{
		{"world", testdataConfig(), benchEvents(b, 0)},
		{"filler=" + strconv.Itoa(filler), big, benchEvents(b, filler)},
	}
	for _, set := range sets {
		for _, cache := range []struct {
			name    string
			records int
		}{{"cache", defaultCacheRecords}, {"nocache", 0}} {
			en := newTestEnricher(b, set.cfg, cache.records)
			b.Run(set.name+"/"+cache.name, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					en.Enrich(set.events[i%len(set.events)])
				}
			})
			b.Run(set.name+"/"+cache.name+"/parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for i := 0; pb.Next(); i++ {
						en.Enrich(set.events[i%len(set.events)])
					}
				})
			})
		}
	}
}

// benchEvents returns 65,536 sign-ins: with filler, mostly from filler
// networks, otherwise from World; one in 16 private, one in 16 unknown.
func benchEvents(b *testing.B, filler int) []ingest.Event {
	const n = 1 << 16
	var public []netip.Prefix
	for _, p := range geotest.World {
		for _, s := range p.Networks {
			public = append(public, netip.MustParsePrefix(s))
		}
	}
	if filler > 0 {
		seq, err := geotest.Filler(filler)
		if err != nil {
			b.Fatal(err)
		}
		step := max(1, filler/n)
		i := 0
		for prefix := range seq {
			if i%step == 0 {
				public = append(public, prefix)
			}
			i++
		}
	}
	state := uint64(1)
	random := func(m int) int { // xorshift: deterministic, and enough here
		state ^= state << 13
		state ^= state >> 7
		state ^= state << 17
		return int(state % uint64(m))
	}
	private := []netip.Addr{netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("192.168.7.1"), netip.MustParseAddr("fd00::5")}
	unknown := []netip.Addr{netip.MustParseAddr("198.51.100.9"), netip.MustParseAddr("2001:db8::9")}
	events := make([]ingest.Event, n)
	for i := range events {
		var ip netip.Addr
		switch i % 16 {
		case 0:
			ip = private[random(len(private))]
		case 1:
			ip = unknown[random(len(unknown))]
		default:
			ip = hostIn(public[random(len(public))], random(1<<20))
		}
		events[i] = ingest.Event{User: "user" + strconv.Itoa(random(5000)) + "@example.org", IP: ip, Type: ingest.TypeLogin}
	}
	return events
}

// hostIn returns the address at offset (modulo the prefix size, at most
// 2^20) from the start of prefix.
func hostIn(prefix netip.Prefix, offset int) netip.Addr {
	hostBits := min(prefix.Addr().BitLen()-prefix.Bits(), 20)
	offset %= 1 << hostBits
	b := prefix.Masked().Addr().As16()
	for i := 15; i >= 0 && offset > 0; i-- {
		sum := int(b[i]) + offset&0xff
		b[i] = byte(sum)
		offset = offset>>8 + sum>>8
	}
	ip := netip.AddrFrom16(b)
	if prefix.Addr().Is4() {
		ip = ip.Unmap()
	}
	return ip
}
