// Package tlsfiles reads the PEM files that atod's config names for the
// TLS connections it makes (Kafka, Redis, syslog, Splunk), with errors
// that name the config key and the file at fault: crypto/tls's own do not
// say which of a certificate and its key is wrong. It sits beside the
// Kafka consumer, its first user.
package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/atod-project/atod/ingest/secretfile"
)

// Roots reads a bundle of CA certificates; key is its config key, such
// as "kafka.tls.ca_file".
func Roots(key, path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s: no PEM certificate in %s", key, path)
	}
	return pool, nil
}

// KeyPair reads a client certificate and its key; prefix is their config
// keys' ("kafka.tls" for kafka.tls.cert_file and kafka.tls.key_file).
func KeyPair(prefix, certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s.cert_file: %w", prefix, err)
	}
	keyPEM, err := secretfile.Read(prefix+".key_file", keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := firstCertificate(certPEM); err != nil {
		return tls.Certificate{}, fmt.Errorf("%s.cert_file %s: %w", prefix, certFile, err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	switch {
	case err == nil:
		return cert, nil
	case strings.Contains(err.Error(), "does not match"):
		return tls.Certificate{}, fmt.Errorf("%s.key_file %s is not the key of %s.cert_file %s: %w", prefix, keyFile, prefix, certFile, err)
	default: // the certificate is good: the key is at fault
		return tls.Certificate{}, fmt.Errorf("%s.key_file %s: %w", prefix, keyFile, err)
	}
}

// firstCertificate checks the first certificate of a PEM file, the one
// tls.X509KeyPair pairs with the key.
func firstCertificate(data []byte) error {
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			return errors.New("no PEM certificate in it")
		}
		if b.Type == "CERTIFICATE" {
			_, err := x509.ParseCertificate(b.Bytes)
			return err
		}
	}
}
