package dovecottest

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// HoldIMAP signs in over IMAP and holds the connection, as a mail client
// (or an attacker's) does; the channel receives the time the server closed
// it, which is what a revocation test waits for.
func HoldIMAP(t testing.TB, addr, user, password string) <-chan time.Time {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	r := bufio.NewReader(conn)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatalf("IMAP greeting: %v", err)
	}
	fmt.Fprintf(conn, "a1 LOGIN %q %q\r\n", user, password)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("IMAP login: %v", err)
		}
		if strings.HasPrefix(line, "a1 ") {
			if !strings.HasPrefix(line, "a1 OK") {
				t.Fatalf("IMAP login: %s", line)
			}
			break
		}
	}
	closed := make(chan time.Time, 1)
	go func() {
		for {
			if _, err := r.ReadString('\n'); err != nil {
				closed <- time.Now()
				return
			}
		}
	}()
	return closed
}
