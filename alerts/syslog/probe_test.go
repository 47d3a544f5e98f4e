package syslog

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
)

// Over TLS, the probe of an idle connection (a read that times out) must
// leave the session usable: two alerts after a probe arrive on the one
// connection, each as a whole octet-counted frame.
func TestTLSProbeKeepsSession(t *testing.T) {
	cert, caFile := serverCert(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	frames := receiver(t, ln)
	cfg := DefaultConfig()
	cfg.Address, cfg.TLS, cfg.CAFile = ln.Addr().String(), true, caFile
	c, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.probeAfter = 0
	var first any
	for i := range 3 {
		if _, err := c.Notify(context.Background(), alert); err != nil {
			t.Fatalf("alert %d: %v", i, err)
		}
		if got := <-frames; !strings.HasSuffix(got, CEF(alert, "dev")) {
			t.Fatalf("alert %d: frame %q", i, got)
		}
		c.mu.Lock()
		conn := c.conn
		c.mu.Unlock()
		if i == 0 {
			first = conn
		} else if conn != first {
			t.Fatalf("alert %d: the probe dropped the TLS connection and atod dialled again", i)
		}
	}
}
