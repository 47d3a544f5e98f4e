package box

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestSealOpen(t *testing.T) {
	b := New(secret, "test")
	plain := []byte(`{"user":"anna@example.org","ip":"203.0.113.9"}`)
	v := b.Seal(plain, "k1")
	if bytes.Contains(v, []byte("anna")) || bytes.Contains(v, []byte("203.0.113")) {
		t.Fatalf("sealed value shows the plain text: %q", v)
	}
	if w := b.Seal(plain, "k1"); bytes.Equal(v, w) {
		t.Error("two seals of one value are equal: the nonce repeats")
	}
	got, err := b.Open(v, "k1")
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open: %q, %v; want the plain value", got, err)
	}
	for name, c := range map[string]struct {
		b     *Box
		v     []byte
		where string
	}{
		"another place":   {b, v, "k2"},
		"another key":     {New([]byte("another secret of 32 bytes length"), "test"), v, "k1"},
		"another purpose": {New(secret, "other"), v, "k1"},
		"damaged":         {b, append(append([]byte{}, v[:len(v)-1]...), v[len(v)-1]^1), "k1"},
		"truncated":       {b, v[:10], "k1"},
		"no key":          {nil, v, "k1"},
	} {
		if _, err := c.b.Open(c.v, c.where); !errors.Is(err, ErrSealed) {
			t.Errorf("%s: Open gave %v; want ErrSealed", name, err)
		}
	}
}

// Values written in clear (before sealing, or without a key) still open,
// so that an upgrade keeps what is in flight; a nil Box writes in clear.
func TestClearValues(t *testing.T) {
	plain := []byte(`[{"id":"a1"}]`)
	for _, b := range []*Box{nil, New(secret, "test")} {
		got, err := b.Open(plain, "k")
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("box %v: Open of a clear value: %q, %v", b != nil, got, err)
		}
	}
	var none *Box
	if got := none.Seal(plain, "k"); !bytes.Equal(got, plain) {
		t.Errorf("nil Box sealed: %q", got)
	}
	if got := none.Name("anna@example.org"); got != "anna@example.org" {
		t.Errorf("nil Box named %q", got)
	}
}

func TestName(t *testing.T) {
	b := New(secret, "test")
	id := "f00d/revoke/graph/anna@example.org"
	n := b.Name(id)
	if n != b.Name(id) || len(n) != 32 || strings.Contains(n, "anna") {
		t.Errorf("Name(%q) = %q; want 32 stable hex digits without the name", id, n)
	}
	if n == b.Name(id+"x") || n == New(secret, "other").Name(id) {
		t.Error("Name does not depend on the id and the purpose")
	}
}

func FuzzOpen(f *testing.F) {
	b := New(secret, "fuzz")
	f.Add(b.Seal([]byte(`{"a":1}`), "k"), "k")
	f.Add([]byte{sealedV1}, "k")
	f.Add([]byte(`{"a":1}`), "")
	f.Fuzz(func(t *testing.T, v []byte, where string) {
		got, err := b.Open(v, where)
		if err == nil && len(v) > 0 && v[0] == sealedV1 {
			// Only a value this box sealed opens; reseal and compare.
			back, err := b.Open(b.Seal(got, where), where)
			if err != nil || !bytes.Equal(back, got) {
				t.Fatalf("round trip of an opened value failed: %v", err)
			}
		}
	})
}
