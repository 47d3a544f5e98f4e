package syslog

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// A receiver that closed the connection within a second of the last write
// (a restart) is noticed before the next alert is written: the kernel would
// take the write, and the alert would be reported delivered but go nowhere.
func TestReceiverClosedJustAfterWrite(t *testing.T) {
	addr, conns := acceptAll(t)
	cfg := DefaultConfig()
	cfg.Address, cfg.Framing = addr, "newline"
	c, err := New(cfg, Options{}) // the default probeAfter of one second
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Notify(context.Background(), alert); err != nil {
		t.Fatal(err)
	}
	first := <-conns
	if line, _ := bufio.NewReader(first).ReadString('\n'); !strings.Contains(line, "externalId=a1") {
		t.Fatalf("first line %q", line)
	}
	first.Close()                      // the receiver restarts
	time.Sleep(100 * time.Millisecond) // its FIN has arrived; well within one second of the last write
	second := alert
	second.ID = "a2"
	if _, err := c.Notify(context.Background(), second); err != nil {
		return // reported as failed: the retry stage sends it again on a new connection
	}
	select {
	case conn := <-conns:
		defer conn.Close()
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		if line, _ := bufio.NewReader(conn).ReadString('\n'); !strings.Contains(line, "externalId=a2") {
			t.Fatalf("second connection got %q", line)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Notify reported alert a2 delivered, but the receiver had closed the connection and no receiver got it")
	}
}

// A port out of range or not a number is refused at start, naming the key,
// rather than failing every connection.
func TestValidateRejectsBadPort(t *testing.T) {
	for _, addr := range []string{"siem:99999", "siem:0", "siem:65l4", "siem:-1"} {
		cfg := DefaultConfig()
		cfg.Address = addr
		if err := cfg.Validate(); err == nil {
			t.Errorf("address %q accepted at start; every connection to it will fail", addr)
		}
	}
}

// acceptAll listens on a loopback port and hands on every connection a
// client opens, until the test ends.
func acceptAll(t *testing.T) (addr string, conns <-chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan net.Conn, 4)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			ch <- conn
		}
	}()
	return ln.Addr().String(), ch
}
