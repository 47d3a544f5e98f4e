package syslog

import (
	"context"
	"strings"
	"testing"
)

// Over TLS, the probe of an idle connection (a read that times out) must
// leave the session usable: two alerts after a probe arrive on the one
// connection, each as a whole octet-counted frame.
func TestTLSProbeKeepsSession(t *testing.T) {
	c, frames := tlsClient(t)
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
