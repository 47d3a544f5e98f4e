// Package oauth gets app-only access tokens for the revocation hooks: the
// OAuth 2.0 client-credentials grant (RFC 6749 4.4) with a secret or a
// signed client assertion (RFC 7523 2.2), and the JWT bearer grant (RFC
// 7523 2.1) that Google's service accounts use. Tokens are cached until
// shortly before they expire, so a burst of revocations costs one token
// request. JWTs are signed here with crypto/rsa: the few claims needed do
// not justify a dependency.
package oauth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
)

// Algorithms for SignJWT.
const (
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256: Google, Okta
	PS256 = "PS256" // RSASSA-PSS with SHA-256: what Microsoft now recommends
)

// SignJWT returns header.claims.signature in compact serialisation (RFC
// 7515). header gets "alg" and "typ" set; extra header fields (kid, x5t)
// are the caller's.
func SignJWT(key *rsa.PrivateKey, alg string, header, claims map[string]any) (string, error) {
	h := map[string]any{"alg": alg, "typ": "JWT"}
	for k, v := range header {
		h[k] = v
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("encoding JWT header: %w", err)
	}
	cj, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encoding JWT claims: %w", err)
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(hj) + "." + enc.EncodeToString(cj)
	sum := sha256.Sum256([]byte(signing))
	var sig []byte
	switch alg {
	case RS256:
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	case PS256:
		sig, err = rsa.SignPSS(rand.Reader, key, crypto.SHA256, sum[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	default:
		return "", fmt.Errorf("JWT algorithm %q not supported", alg)
	}
	if err != nil {
		return "", fmt.Errorf("signing JWT: %w", err)
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// ParsePrivateKey reads an RSA private key from PEM, PKCS #1 ("RSA PRIVATE
// KEY") or PKCS #8 ("PRIVATE KEY"), the forms openssl and the providers'
// consoles hand out.
func ParsePrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	for rest := pemBytes; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PEM private key found")
		}
		switch block.Type {
		case "RSA PRIVATE KEY":
			return x509.ParsePKCS1PrivateKey(block.Bytes)
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, err
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("private key is %T, want RSA", k)
			}
			return rk, nil
		}
	}
}

// ParseCertificate reads the first certificate of a PEM bundle, returning
// it in DER, which thumbprints are computed over.
func ParseCertificate(pemBytes []byte) ([]byte, error) {
	for rest := pemBytes; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PEM certificate found")
		}
		if block.Type == "CERTIFICATE" {
			if _, err := x509.ParseCertificate(block.Bytes); err != nil {
				return nil, err
			}
			return block.Bytes, nil
		}
	}
}

// NewJTI returns a random JWT id, so that a provider can reject a replayed
// assertion.
func NewJTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
