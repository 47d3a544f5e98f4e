package tlsfiles

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// testPair is a self-signed certificate and its key, in PEM.
func testPair(tb testing.TB) (certPEM, keyPEM []byte) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "atod test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})
}

// keyAtFault reports, from what crypto/tls says of a pair that does not
// load, whether the key file (rather than the certificate file) is wrong.
func keyAtFault(pairErr error) bool {
	m := pairErr.Error()
	return !strings.Contains(m, "certificate input") && !strings.Contains(m, "does not match") &&
		(strings.Contains(m, "key input") || strings.Contains(m, "private key") || strings.Contains(m, "PEM for the private key"))
}

// FuzzFiles feeds arbitrary bytes as the content of a CA bundle, a client
// certificate and its key. No panic; garbage is an error that names the
// config key and the file at fault (the README promises "the message
// names the key"; a bad key_file was once reported as cert_file); what is
// accepted has the roots, and the certificate with its key.
func FuzzFiles(f *testing.F) {
	cert, key := testPair(f)
	cert2, key2 := testPair(f)
	junk := []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
	for _, s := range [][3][]byte{
		{cert, cert, key},
		{append(slices.Clone(cert), cert2...), cert, key},
		{append(slices.Clone(junk), cert...), cert, key},
		{junk, cert, key},
		{[]byte("not pem"), cert, key},
		{nil, cert, key},
		{cert, cert, []byte("not a key")},
		{cert, cert, nil},
		{cert, cert, cert},
		{cert, key, key},
		{cert, cert, key2},
		{cert, cert2, key},
		{cert, append(slices.Clone(cert), key...), key},
		{cert, []byte("garbage"), []byte("garbage")},
		{cert, cert, key[:len(key)/2]},
	} {
		f.Add(s[0], s[1], s[2])
	}
	dir := f.TempDir()
	caFile, certFile, keyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	f.Fuzz(func(t *testing.T, ca, certPEM, keyPEM []byte) {
		for file, b := range map[string][]byte{caFile: ca, certFile: certPEM, keyFile: keyPEM} {
			if err := os.WriteFile(file, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		pool, err := Roots("x.tls.ca_file", caFile)
		if caOK := x509.NewCertPool().AppendCertsFromPEM(ca); caOK != (err == nil) {
			t.Fatalf("CA bundle readable %v, Roots error %v", caOK, err)
		}
		if err != nil && (!strings.Contains(err.Error(), "x.tls.ca_file") || !strings.Contains(err.Error(), caFile)) {
			t.Fatalf("bad CA file: error %q does not name x.tls.ca_file and the file", err)
		}
		if err == nil && pool == nil {
			t.Fatal("no roots and no error")
		}

		got, err := KeyPair("x.tls", certFile, keyFile)
		_, pairErr := tls.X509KeyPair(certPEM, keyPEM)
		switch {
		case err == nil && pairErr != nil:
			t.Fatalf("accepted a pair crypto/tls refuses: %v", pairErr)
		case err == nil:
			if len(got.Certificate) == 0 || got.PrivateKey == nil {
				t.Fatalf("usable-looking pair without certificate or key: %+v", got)
			}
		case pairErr == nil:
			t.Fatalf("good files refused: %v", err)
		case keyAtFault(pairErr):
			if !strings.Contains(err.Error(), "x.tls.key_file "+keyFile) {
				t.Fatalf("bad key file (%v): error %q does not name x.tls.key_file and the file", pairErr, err)
			}
		case strings.Contains(pairErr.Error(), "does not match"):
			if !strings.Contains(err.Error(), "key_file") || !strings.Contains(err.Error(), "cert_file") {
				t.Fatalf("mismatched pair: error %q does not name both files", err)
			}
		default:
			if !strings.Contains(err.Error(), "x.tls.cert_file "+certFile) {
				t.Fatalf("bad certificate (%v): error %q does not name x.tls.cert_file and the file", pairErr, err)
			}
		}
	})
}
