package dovecot

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest/dovecot/dovecottest"
)

// TestKickRealDovecot kicks a held IMAP session of a real Dovecot and
// checks the server closes it, and that kicking a user without sessions
// is a success.
func TestKickRealDovecot(t *testing.T) {
	srv := dovecottest.Start(t, dovecottest.Options{
		Users:         []dovecottest.User{{Name: "anna@example.org", Password: "pw"}, {Name: "bob@example.org", Password: "pw"}},
		DoveadmAPIKey: "test-key",
	})
	closed := holdIMAP(t, srv.IMAPAddr, "anna@example.org", "pw")
	cfg := DefaultConfig()
	cfg.URL = srv.DoveadmURL
	c, err := New(cfg, Options{LookupEnv: func(k string) (string, bool) { return "test-key", k == EnvAPIKey }})
	if err != nil {
		t.Fatal(err)
	}
	a := detector.Alert{ID: "real1", User: "anna@example.org"}
	if retry, err := c.Revoke(context.Background(), "anna@example.org", a); err != nil {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("Dovecot did not close the kicked session")
	}
	if _, err := c.Revoke(context.Background(), "bob@example.org", detector.Alert{ID: "real2"}); err != nil {
		t.Fatalf("kicking a user without sessions: %v", err)
	}
}

// holdIMAP signs in over IMAP and holds the connection, as a mail client
// (or an attacker's) does; the channel receives the time the server
// closed it. (dovecottest's IMAPConn cannot wait for the server to hang
// up, so this reads the socket itself.)
func holdIMAP(t testing.TB, addr, user, password string) <-chan time.Time {
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
