package enrich

import (
	"net/netip"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  Config
		want []string // each must appear in the message; none: valid
	}{
		{"empty", Config{}, nil},
		{"test databases", testdataConfig(), nil},
		{"addresses and CIDRs", Config{TrustedNetworks: []string{"198.51.100.0/24", "203.0.113.7", "2001:db8::/32", "2001:db8::1", "fe80::1%eth0", "10.1.2.3/8"}}, nil},
		{"prefix too long", Config{TrustedNetworks: []string{"10.0.0.0/8", "192.0.2.0/24", "10.0.0.0/33"}},
			[]string{`trusted_networks[2]: "10.0.0.0/33" is not a CIDR`}},
		{"several bad values", Config{City: "/x/city.mmdb", TrustedNetworks: []string{"", "2001:db8::/129", "example.org"}},
			[]string{
				"geoip.city: stat /x/city.mmdb: no such file or directory",
				`trusted_networks[0]: "" is not a CIDR`,
				`trusted_networks[1]: "2001:db8::/129" is not a CIDR`,
				`trusted_networks[2]: "example.org" is not a CIDR`,
			}},
		{"missing ASN", Config{ASN: "/x/asn.mmdb"}, []string{"geoip.asn: stat /x/asn.mmdb: no such file or directory"}},
		{"directory", Config{AnonymousIP: dir}, []string{"geoip.anonymous_ip: " + dir + " is not a regular file"}},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if len(tt.want) == 0 {
			if err != nil {
				t.Errorf("%s: Validate() = %v, want nil", tt.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: Validate() = nil, want %q", tt.name, tt.want)
			continue
		}
		lines := strings.Split(err.Error(), "\n")
		if len(lines) != len(tt.want) {
			t.Errorf("%s: Validate() = %q, want %d messages", tt.name, err, len(tt.want))
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: Validate() = %q, want it to contain %q", tt.name, err, w)
			}
		}
	}
}

func TestTrustedSet(t *testing.T) {
	cfg := Config{TrustedNetworks: []string{"10.1.2.3/8", "192.0.2.1", "::ffff:198.51.100.0/120", "2001:db8::1", "fe80::1%eth0"}}
	set, err := cfg.trustedSet()
	if err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[string]bool{
		"10.200.0.1":     true, // host bits of 10.1.2.3/8 ignored
		"11.0.0.1":       false,
		"192.0.2.1":      true, // a plain address is a /32
		"192.0.2.2":      false,
		"198.51.100.200": true, // mapped network turned into 198.51.100.0/24
		"198.51.101.1":   false,
		"2001:db8::1":    true, // a plain address is a /128
		"2001:db8::2":    false,
		"fe80::1":        true, // zone ignored
	} {
		if got := set.Contains(netip.MustParseAddr(ip)); got != want {
			t.Errorf("trusted %s = %v, want %v", ip, got, want)
		}
	}
}
