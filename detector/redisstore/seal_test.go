package redisstore

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/storetest"
)

func TestSealOpensOnlyWithItsKey(t *testing.T) {
	s := newSealer([]byte("a pseudonym key of 32 bytes....."))
	other := newSealer([]byte("another key, also long enough..."))
	for _, name := range []string{"a", "noah.schmitt@example-hospital.org", "özlem.şahin@example.org",
		"\x02starts with the marker", strings.Repeat("x", 1024)} {
		sealed := s.seal(name)
		if strings.Contains(sealed, name) || len(sealed) != len(name)+1+sealIVLen {
			t.Fatalf("seal(%q) = %x", name, sealed)
		}
		if again := s.seal(name); again != sealed {
			t.Errorf("seal(%q) differs between calls", name)
		}
		// A fresh sealer has nothing cached: this opens for real.
		fresh := newSealer([]byte("a pseudonym key of 32 bytes....."))
		if got, err := fresh.open([]byte(sealed)); err != nil || got != name {
			t.Errorf("open(seal(%q)) = %q, %v", name, got, err)
		}
		if _, err := other.open([]byte(sealed)); err == nil {
			t.Errorf("a sealer with another key opened %q", name)
		}
		damaged := []byte(sealed)
		damaged[len(damaged)-1] ^= 1
		if _, err := fresh.open(damaged); err == nil {
			t.Errorf("a damaged seal of %q opened", name)
		}
	}
	if s.seal("") != "" {
		t.Error("an empty name was sealed")
	}
	for _, b := range []string{"", "\x02", "\x02" + strings.Repeat("i", sealIVLen), "\x03" + strings.Repeat("i", 20)} {
		if _, err := s.open([]byte(b)); err == nil {
			t.Errorf("open(%q) succeeded", b)
		}
	}
}

// States round-trip with names sealed; a state written with names in
// clear (before sealing, or under redis.allow_plain_keys) still decodes;
// a sealed one does not decode without the key.
func TestCodecSealsAccountNames(t *testing.T) {
	seal := newSealer([]byte("a pseudonym key of 32 bytes....."))
	sealed, err := newCodec[detector.AddrState](seal, "Addr", "Rev")
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := newCodec[detector.AddrState](nil, "Addr", "Rev")
	for seed := range uint64(50) {
		var in detector.AddrState
		storetest.Fill(rand.New(rand.NewPCG(seed, 3)), &in)
		in.Addr, in.Rev = detector.AddrState{}.Addr, 0
		if len(in.Users) > 0 {
			in.Users[0].User = "noah.schmitt@example-hospital.org"
		}
		b, err := sealed.appendValue(nil, &in)
		if err != nil {
			t.Fatal(err)
		}
		if len(in.Users) > 0 && bytes.Contains(b, []byte(in.Users[0].User)) {
			t.Fatalf("seed %d: the encoding names the account", seed)
		}
		var out detector.AddrState
		if err := sealed.decode(b, &out); err != nil || !reflect.DeepEqual(in, out) {
			t.Fatalf("seed %d: sealed round trip: %v\n in %+v\nout %+v", seed, err, in, out)
		}
		inClear, _ := plain.appendValue(nil, &in)
		out = detector.AddrState{}
		if err := sealed.decode(inClear, &out); err != nil || !reflect.DeepEqual(in, out) {
			t.Fatalf("seed %d: a value in clear, read with the key: %v", seed, err)
		}
		hasName := false
		for _, u := range in.Users {
			hasName = hasName || u.User != ""
		}
		if err := plain.decode(b, &out); hasName && err == nil {
			t.Fatalf("seed %d: a sealed value decoded without the key", seed)
		}
	}
}

// A name in clear that starts with the marker byte is escaped, so it is
// not taken for a sealed one.
func TestPlainNameStartingWithTheMarker(t *testing.T) {
	plain, _ := newCodec[detector.AddrState](nil, "Addr", "Rev")
	sealed, _ := newCodec[detector.AddrState](newSealer([]byte("a pseudonym key of 32 bytes.....")), "Addr", "Rev")
	in := detector.AddrState{Users: []detector.AddrUser{{User: "\x02" + strings.Repeat("z", 20)}}}
	b, err := plain.appendValue(nil, &in)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*codec[detector.AddrState]{plain, sealed} {
		var out detector.AddrState
		if err := c.decode(b, &out); err != nil || !reflect.DeepEqual(in, out) {
			t.Fatalf("decoded %+v, %v", out, err)
		}
	}
}

func FuzzSealOpen(f *testing.F) {
	s := newSealer([]byte("a pseudonym key of 32 bytes....."))
	f.Add("noah.schmitt@example-hospital.org", []byte{strSealed, 1, 2, 3})
	f.Fuzz(func(t *testing.T, name string, junk []byte) {
		if got, err := s.open([]byte(s.seal(name))); name != "" && (err != nil || got != name) {
			t.Fatalf("open(seal(%q)) = %q, %v", name, got, err)
		}
		if got, err := s.open(junk); err == nil && s.seal(got) != string(junk) {
			t.Fatalf("open(%x) = %q, which seals differently", junk, got)
		}
	})
}
