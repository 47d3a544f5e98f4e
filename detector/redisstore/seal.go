package redisstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"hash"
	"sync"
)

// sealer hides the account names that states hold in their values (the
// accounts seen at an address, the organisation's spray attempts): the
// fields tagged `store:"account"`. Keys are pseudonyms, but an address's
// value naming its accounts beside the times they signed in would let
// anyone with a copy of the data match them to the accounts' own values,
// which hold addresses and places: who signed in from where. The alerts
// quote those names, so they are encrypted, not hashed.
//
// A sealed name is a marker byte, a 12-byte synthetic IV, and the name
// encrypted with AES-256-CTR under that IV (13 bytes more than the name).
// The IV is an HMAC of the name (the SIV construction): the same name
// always seals to the same bytes, so a state can be compared and cached by
// its encoding, and opening a value checks it, since only the key holder
// can make an IV that matches its name. Both keys are derived from the
// pseudonym key, in a domain of their own. Safe for concurrent use.
type sealer struct {
	block cipher.Block
	macs  sync.Pool // of hash.Hash: HMAC keyed with the IV key

	mu     sync.Mutex
	sealed map[string]string // name to sealed bytes
	opened map[string]string // sealed bytes to name
}

const (
	strSealed = 0x02 // then a 12-byte IV and the encrypted name (see sealer)
	sealIVLen = 12
)

var errBadSeal = errors.New("sealed account name does not open: written with another pseudonym key, or damaged")

func newSealer(secret []byte) *sealer {
	block, err := aes.NewCipher(derive(secret, "atod seal encryption")) // 32 bytes: AES-256
	if err != nil {
		panic(err) // cannot happen with a 32-byte key
	}
	ivKey := derive(secret, "atod seal iv")
	s := &sealer{block: block, sealed: make(map[string]string), opened: make(map[string]string)}
	s.macs.New = func() any { return hmac.New(sha256.New, ivKey) }
	return s
}

// seal returns name sealed; an empty name stays empty.
func (s *sealer) seal(name string) string {
	if name == "" {
		return ""
	}
	s.mu.Lock()
	b, ok := s.sealed[name]
	s.mu.Unlock()
	if ok {
		return b
	}
	out := make([]byte, 1+sealIVLen+len(name))
	out[0] = strSealed
	iv := s.iv(name)
	copy(out[1:], iv[:sealIVLen])
	s.xor(out[1+sealIVLen:], []byte(name), iv)
	b = string(out)
	s.remember(name, b)
	return b
}

// open returns the name that b (strSealed first) seals.
func (s *sealer) open(b []byte) (string, error) {
	s.mu.Lock()
	name, ok := s.opened[string(b)]
	s.mu.Unlock()
	if ok {
		return name, nil
	}
	if len(b) <= 1+sealIVLen || b[0] != strSealed {
		return "", errBadSeal
	}
	var iv [aes.BlockSize]byte
	copy(iv[:], b[1:1+sealIVLen])
	plain := make([]byte, len(b)-1-sealIVLen)
	s.xor(plain, b[1+sealIVLen:], iv)
	name = string(plain)
	want := s.iv(name)
	if !hmac.Equal(want[:sealIVLen], iv[:sealIVLen]) {
		return "", errBadSeal
	}
	s.remember(name, string(b))
	return name, nil
}

// iv is the synthetic IV of name, with the CTR block counter (the last
// four bytes) zero.
func (s *sealer) iv(name string) [aes.BlockSize]byte {
	m := s.macs.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(name))
	var sum [sha256.Size]byte
	m.Sum(sum[:0])
	s.macs.Put(m)
	var iv [aes.BlockSize]byte
	copy(iv[:sealIVLen], sum[:])
	return iv
}

func (s *sealer) xor(dst, src []byte, iv [aes.BlockSize]byte) {
	cipher.NewCTR(s.block, iv[:]).XORKeyStream(dst, src)
}

// remember caches both directions, emptied when full like the keyer's.
func (s *sealer) remember(name, sealed string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sealed) >= keyCacheSize {
		clear(s.sealed)
		clear(s.opened)
	}
	s.sealed[name] = sealed
	s.opened[sealed] = name
}

// derive returns the key for label derived from secret (the pseudonym
// key): HMAC-SHA256 of the label, 32 bytes.
func derive(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}
