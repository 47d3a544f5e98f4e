package dovecottest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Log returns what Dovecot has logged so far.
func (s *Server) Log(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(s.LogPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("dovecottest: reading log: %v", err)
	}
	return b
}

// WaitLog waits until the log contains want at least n times and returns
// the log. Dovecot writes through its log process, so a line may appear a
// moment after the client saw the answer.
func (s *Server) WaitLog(t testing.TB, want string, n int, timeout time.Duration) []byte {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b := s.Log(t)
		if bytes.Count(b, []byte(want)) >= n {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("dovecottest: log has %d of %d %q within %s:\n%s", bytes.Count(b, []byte(want)), n, want, timeout, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// DoveadmAuthorization is the Authorization header value for the doveadm
// HTTP API: "X-Dovecot-API " and the key in base64.
func (s *Server) DoveadmAuthorization() string {
	return "X-Dovecot-API " + base64.StdEncoding.EncodeToString([]byte(s.DoveadmAPIKey))
}

func logFileName(dir string) string    { return filepath.Join(dir, "dovecot.log") }
func passwdFileName(dir string) string { return filepath.Join(dir, "passwd") }

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	for range 100 {
		port := 20000 + rand.IntN(12000) // below the kernel's ephemeral range
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("dovecottest: no free loopback port found")
	return 0
}
