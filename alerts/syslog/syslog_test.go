package syslog

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
)

var alert = detector.Alert{ID: "a1", Time: time.Date(2026, 3, 2, 8, 11, 0, 250e6, time.UTC), Rule: "compromise_after_attack",
	User: "anna@example.org", IP: "95.24.0.7", Score: 90, Severity: "critical", Action: "revoke_sessions",
	Reasons: []string{"Sign-in succeeded after 15 failures."}, Evidence: []string{"s-1", "s-2"},
	Geo: &detector.AlertGeo{Country: "RU", City: "Moscow", ASN: 12389, Org: "Rostelecom"}}

func TestCEF(t *testing.T) {
	want := `CEF:0|atod|atod|1.2|compromise_after_attack|Compromise after attack|9|rt=1772439060250 externalId=a1 ` +
		`act=revoke_sessions cat=critical duser=anna@example.org src=95.24.0.7 msg=Sign-in succeeded after 15 failures. ` +
		`cn1=90 cn1Label=score cs1=RU cs1Label=country cs2=Moscow cs2Label=city cn2=12389 cn2Label=asn cs3=Rostelecom ` +
		`cs3Label=org cs4=s-1,s-2 cs4Label=evidence`
	if got := CEF(alert, "1.2"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	evil := detector.Alert{Rule: "a|b\\c", User: "x=y\\z\nmsg=forged\r", IP: "2001:db8::1", Score: 150,
		Reasons: []string{"pipes | stay", "eq = escaped"}}
	want = `CEF:0|atod|atod|v\|1|a\|b\\c|A\|b\\c|10|rt=-62135596800000 duser=x\=y\\z\nmsg\=forged\r ` +
		`c6a2=2001:db8::1 c6a2Label=Source IPv6 Address msg=pipes | stay eq \= escaped cn1=150 cn1Label=score`
	if got := CEF(evil, "v|1"); got != want {
		t.Errorf("escaping: got\n%s\nwant\n%s", got, want)
	}
}

// receiver accepts connections and returns every octet-counted frame.
func receiver(t *testing.T, ln net.Listener) <-chan string {
	t.Helper()
	frames := make(chan string, 16)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				for {
					n, err := r.ReadString(' ')
					if err != nil {
						return
					}
					size, _ := strconv.Atoi(strings.TrimSpace(n))
					buf := make([]byte, size)
					if _, err := io.ReadFull(r, buf); err != nil {
						return
					}
					frames <- string(buf)
				}
			}()
		}
	}()
	return frames
}

func TestTCPOctetCounting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	frames := receiver(t, ln)
	cfg := DefaultConfig()
	cfg.Address, cfg.Hostname = ln.Addr().String(), "atod host 1"
	now := time.Date(2026, 3, 2, 8, 11, 2, 123456000, time.UTC)
	c, err := New(cfg, Options{Now: func() time.Time { return now }, Version: "1.2"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Notify(context.Background(), alert); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("<82>1 2026-03-02T08:11:02.123456Z atodhost1 atod %d compromise_after_attack - %s", os.Getpid(), CEF(alert, "1.2"))
	if got := <-frames; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestReconnectsAfterReceiverClosed(t *testing.T) {
	addr, conns := acceptAll(t)
	cfg := DefaultConfig()
	cfg.Address, cfg.Framing = addr, "newline"
	c, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.probeAfter = 0
	if _, err := c.Notify(context.Background(), alert); err != nil {
		t.Fatal(err)
	}
	first := <-conns
	line, _ := bufio.NewReader(first).ReadString('\n')
	if !strings.Contains(line, "CEF:0|atod") {
		t.Fatalf("first line %q", line)
	}
	first.Close() // the receiver restarts
	if _, err := c.Notify(context.Background(), alert); err != nil {
		t.Fatal(err)
	}
	second := <-conns
	defer second.Close()
	line, _ = bufio.NewReader(second).ReadString('\n')
	if !strings.Contains(line, "CEF:0|atod") {
		t.Fatalf("alert after the receiver closed was lost: %q", line)
	}
}

// tlsClient starts a TLS receiver and a client of it, closed at the end
// of the test; frames yields what the receiver got.
func tlsClient(t *testing.T) (*Client, <-chan string) {
	t.Helper()
	cert, caFile := serverCert(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	frames := receiver(t, ln)
	cfg := DefaultConfig()
	cfg.Address, cfg.TLS, cfg.CAFile = ln.Addr().String(), true, caFile
	c, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, frames
}

func TestTLS(t *testing.T) {
	c, frames := tlsClient(t)
	if _, err := c.Notify(context.Background(), alert); err != nil {
		t.Fatal(err)
	}
	if got := <-frames; !strings.HasSuffix(got, CEF(alert, "dev")) {
		t.Errorf("got %q", got)
	}
	// Without the CA the certificate does not verify: not retryable.
	cfg := c.cfg
	cfg.CAFile = ""
	c2, _ := New(cfg, Options{})
	if retry, err := c2.Notify(context.Background(), alert); err == nil || retry {
		t.Errorf("untrusted receiver: retry=%v err=%v", retry, err)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{{Address: "siem", Facility: "authpriv", Framing: "newline"},
		{Address: "siem:6514", Facility: "bogus", Framing: "newline"},
		{Address: "siem:6514", Facility: "auth", Framing: "lf"},
		{Address: "siem:6514", Facility: "auth", Framing: "newline", CAFile: "ca.pem"}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func serverCert(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "siem"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, caFile
}

// "security" is auth's old name on Linux, where the receivers run.
func TestSecurityFacilityIsAuth(t *testing.T) {
	if facilities["security"] != facilities["auth"] || facilities["auth"] != 4 {
		t.Errorf("security = %d, auth = %d; want both 4", facilities["security"], facilities["auth"])
	}
}
