package main

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// The ops server bounds how long a connection may sit idle between
// requests. Without IdleTimeout (or ReadTimeout) net/http waits for the
// next request of a keep-alive connection with no deadline at all (it
// clears the read deadline and peeks for 4 bytes), so anyone who can reach
// the port sends one GET /healthz (unauthenticated) per connection and
// keeps the connections open for ever, until atod runs out of file
// descriptors: ReadHeaderTimeout alone only covers the first bytes of a
// request, not the wait for them.
func TestOpsServerBoundsEveryWait(t *testing.T) {
	s, err := startOps(opsConfig{Listen: "127.0.0.1:0"}, prometheus.NewRegistry(), func() error { return nil }, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	idle := s.srv.IdleTimeout
	if idle == 0 {
		idle = s.srv.ReadTimeout
	}
	if idle <= 0 || idle > 5*time.Minute {
		t.Errorf("ops server: idle keep-alive connections are held for %v (IdleTimeout %v, ReadTimeout %v); want a bound of a few minutes at most",
			map[bool]string{true: "ever", false: idle.String()}[idle <= 0], s.srv.IdleTimeout, s.srv.ReadTimeout)
	}
	if s.srv.WriteTimeout <= 0 {
		t.Errorf("ops server: WriteTimeout is %v; a client that never reads /metrics holds a handler goroutine and its buffers for ever", s.srv.WriteTimeout)
	}
}
