package enrich

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// FuzzTrustedNetworks: trusted_networks comes from a config file.
// Whatever the entries, trustedSet gives a set or an error, never a
// panic; every bad entry is reported naming trusted_networks[i] and the
// value; a good entry is trusted as its doc says (host bits ignored,
// single addresses as /32 or /128, IPv4-mapped networks as IPv4 ones,
// since addresses are unmapped before they are compared).
func FuzzTrustedNetworks(f *testing.F) {
	for _, s := range []string{
		"198.51.100.0/24,203.0.113.7,2001:db8::/32",
		"10.1.2.3/8", "fe80::1%eth0", "::ffff:10.0.0.0/104", "::ffff:1.2.3.4",
		"::ffff:0:0/80", "0.0.0.0/0", "::/0", "10.0.0.0/33", "", " 1.2.3.4", "1.2.3.4/0x8",
		"::ffff:1.2.3.4%eth0", "1.2.3.4%x",
	} {
		f.Add(s, []byte{10, 1, 2, 3})
	}
	f.Fuzz(func(t *testing.T, list string, probe []byte) {
		entries := strings.Split(list, ",")
		if len(entries) > 16 {
			entries = entries[:16]
		}
		cfg := Config{TrustedNetworks: entries}
		set, err := cfg.trustedSet()

		var want []netip.Prefix
		var bad []int
		for i, s := range entries {
			p, perr := netip.ParsePrefix(s)
			if perr != nil {
				a, aerr := netip.ParseAddr(s)
				if aerr != nil {
					bad = append(bad, i)
					continue
				}
				a = a.WithZone("")
				p = netip.PrefixFrom(a, a.BitLen())
			}
			want = append(want, p.Masked())
		}
		if len(bad) > 0 {
			if err == nil || set != nil {
				t.Fatalf("%q: bad entries %v accepted (set %v)", entries, bad, set)
			}
			for _, i := range bad {
				if name := fmt.Sprintf("trusted_networks[%d]: %q", i, entries[i]); !strings.Contains(err.Error(), name) {
					t.Fatalf("%q: error %q does not name %s", entries, err, name)
				}
			}
			if vErr := cfg.Validate(); vErr == nil {
				t.Fatalf("%q: Validate accepts what trustedSet refuses", entries)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: all entries parse, yet %v", entries, err)
		}

		// Probe addresses: each network's first and last address, and one
		// from the fuzzer, all as Locate compares them (unmapped, no zone).
		probes := []netip.Addr{}
		for _, p := range want {
			probes = append(probes, p.Addr(), lastAddr(p))
		}
		if a, ok := netip.AddrFromSlice(probe); ok {
			probes = append(probes, a)
		}
		for _, q := range probes {
			u := q.WithZone("").Unmap()
			expect := false
			for _, p := range want {
				if p.Contains(u) {
					expect = true
				}
				if u.Is4() && p.Addr().Is4In6() && p.Bits() >= 96 && p.Contains(netip.AddrFrom16(u.As16())) {
					expect = true
				}
			}
			if got := set.Contains(u); got != expect {
				t.Fatalf("%q: Contains(%v) = %v, want %v (networks %v)", entries, u, got, expect, want)
			}
		}
	})
}

// lastAddr returns the last address of a masked prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
