package graph

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/alerts/internal/testkeys"
)

// fuzzFirstCert is the DER of the first CERTIFICATE block that parses,
// as an independent reading of certificate_file.
func fuzzFirstCert(raw []byte) (*x509.Certificate, bool) {
	for rest := raw; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, false
		}
		if b.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(b.Bytes)
			return c, err == nil
		}
	}
}

func fuzzGraphSeeds(f *testing.F) {
	a, b := testkeys.New(f), testkeys.New(f)
	p1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(a.Key)})
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "atod fuzz ec"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	ecDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ec.PublicKey, ec)
	if err != nil {
		f.Fatal(err)
	}
	ecCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ecDER})
	for _, s := range [][2][]byte{
		{a.CertPEM, a.KeyPEM},
		{a.CertPEM, p1},
		{append(slices.Clone(a.KeyPEM), a.CertPEM...), a.KeyPEM},
		{append(slices.Clone(a.CertPEM), b.CertPEM...), a.KeyPEM},
		{a.CertPEM, b.KeyPEM}, // the key of another certificate
		{ecCert, a.KeyPEM},    // an EC certificate with an RSA key
		{a.KeyPEM, a.CertPEM}, // switched
		{a.CertPEM[:len(a.CertPEM)/2], a.KeyPEM},
		{[]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), a.KeyPEM},
		{nil, nil},
		{[]byte("garbage"), []byte("garbage")},
	} {
		f.Add(s[0], s[1])
	}
}

// FuzzCertificateFiles feeds arbitrary bytes as the content of
// certificate_file and private_key_file into loadCertificate (the
// certificate credential of New). No panic; garbage is an error naming
// the key at fault and its file; an accepted pair gives a key and the
// thumbprint of the certificate's DER.
// The key must be the certificate's: one of another certificate was
// accepted, and every token request would have failed.
func FuzzCertificateFiles(f *testing.F) { fuzzCertificateFiles(f, true) }

func fuzzCertificateFiles(f *testing.F, matching bool) {
	fuzzGraphSeeds(f)
	dir := f.TempDir()
	certFile, keyFile := filepath.Join(dir, "graph.crt"), filepath.Join(dir, "graph.key")
	f.Fuzz(func(t *testing.T, certPEM, keyPEM []byte) {
		if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := DefaultConfig()
		cfg.TenantID, cfg.ClientID, cfg.CertificateFile, cfg.PrivateKeyFile = "contoso.example", "app", certFile, keyFile
		key, thumb, err := loadCertificate(cfg)
		cert, certOK := fuzzFirstCert(certPEM)
		if err != nil {
			if key != nil || thumb != "" {
				t.Fatalf("key or thumbprint %q with error %v", thumb, err)
			}
			msg := err.Error()
			want, file := "private_key_file", keyFile
			if !certOK {
				want, file = "certificate_file", certFile
			}
			if !strings.Contains(msg, want) || !strings.Contains(msg, file) {
				t.Fatalf("error %q does not name %s and its file", msg, want)
			}
			return
		}
		if !certOK || key == nil {
			t.Fatalf("accepted without a readable certificate (%v) or key", certOK)
		}
		sum := sha256.Sum256(cert.Raw)
		if thumb != base64.RawURLEncoding.EncodeToString(sum[:]) {
			t.Fatalf("thumbprint %q is not the first certificate's", thumb)
		}
		if matching {
			if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
				t.Fatalf("private_key_file's key is not the key of certificate_file's certificate (%T): accepted, "+
					"and every client assertion would be signed with a key Entra ID does not pair with this thumbprint", cert.PublicKey)
			}
		}
	})
}
