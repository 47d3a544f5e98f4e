// Package box seals the records atod keeps in Redis beside the detector
// state: the alerts staged in the outbox and the hooks' jobs. They name
// accounts and addresses, and the job keys outlive the jobs by the queue's
// retention, so a copy of the Redis data would otherwise list whom atod
// saw signing in from where, and whom it revoked, in clear, however
// pseudonymous the state's own keys are.
//
// A Box is keyed from the pseudonym key (redis.pseudonym_key_file). Name
// turns an identifier into a keyed pseudonym, for key names and set
// members; Seal and Open encrypt and authenticate a value with AES-256-GCM
// under a random nonce, bound to where it is kept, so that a value moved
// to another key does not open. A nil Box leaves everything in clear
// (redis.allow_plain_keys).
package box

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// sealedV1 heads a sealed value. Values in clear (JSON, written before
// sealing or with no key) start with '{' or '[', so Open still reads them:
// an upgrade keeps the jobs and alerts in flight.
const sealedV1 = 0x01

// Box seals and names with keys derived from one secret. Safe for
// concurrent use.
type Box struct {
	aead cipher.AEAD
	name []byte // HMAC key of Name
}

// New returns a Box keyed from secret for purpose (which keeps the keys of
// different records apart), or nil when secret is nil: records in clear.
func New(secret []byte, purpose string) *Box {
	if secret == nil {
		return nil
	}
	sealKey := derive(secret, "atod box seal "+purpose)
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		panic(err) // a 32-byte key cannot be refused
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &Box{aead: aead, name: derive(secret, "atod box name "+purpose)}
}

func derive(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// Name returns a keyed pseudonym of id: 32 hex digits, the same for the
// same id and key. A nil Box returns id.
func (b *Box) Name(id string) string {
	if b == nil {
		return id
	}
	m := hmac.New(sha256.New, b.name)
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Seal encrypts plain, bound to where (the key it is stored under). A nil
// Box returns plain.
func (b *Box) Seal(plain []byte, where string) []byte {
	if b == nil {
		return plain
	}
	out := make([]byte, 1+b.aead.NonceSize(), 1+b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	out[0] = sealedV1
	if _, err := rand.Read(out[1:]); err != nil {
		panic(fmt.Errorf("reading random nonce: %w", err)) // crypto/rand does not fail on Linux
	}
	return b.aead.Seal(out, out[1:], plain, []byte(where))
}

// ErrSealed is returned for a sealed value that does not open: another
// key, another place, or damaged.
var ErrSealed = errors.New("sealed record does not open with this pseudonym key")

// Open returns the plain value of v stored under where: v itself when it
// was stored in clear, the decrypted value when sealed.
func (b *Box) Open(v []byte, where string) ([]byte, error) {
	if len(v) == 0 || v[0] != sealedV1 {
		return v, nil
	}
	if b == nil {
		return nil, fmt.Errorf("%w: atod has no pseudonym key (redis.allow_plain_keys)", ErrSealed)
	}
	n := 1 + b.aead.NonceSize()
	if len(v) < n+b.aead.Overhead() {
		return nil, fmt.Errorf("%w: %d bytes, too short", ErrSealed, len(v))
	}
	plain, err := b.aead.Open(nil, v[1:n], v[n:], []byte(where))
	if err != nil {
		return nil, ErrSealed
	}
	return plain, nil
}
