package dovecottest

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestServerLogsLoginsAndFailures(t *testing.T) {
	s := Start(t, Options{Users: []User{{"anna@example.org", "s3cret"}}})

	c, err := DialIMAP(s.IMAPAddr, "127.0.3.7")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login("anna@example.org", "wrong"); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("wrong password: got %v, want ErrAuthFailed", err)
	}
	if err := c.Login("anna@example.org", "s3cret"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if err := c.Noop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout(); err != nil {
		t.Fatal(err)
	}
	log := string(s.WaitLog(t, "Logged out", 1, 10*time.Second))
	for _, want := range []string{
		"passwd-file(anna@example.org,127.0.3.7,<", "): Password mismatch",
		"imap-login: Info: Login: user=<anna@example.org>, method=PLAIN, rip=127.0.3.7, lip=127.0.0.1",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestServerDoveadmHTTP(t *testing.T) {
	s := Start(t, Options{Users: []User{{"bob", "pw"}}, DoveadmAPIKey: "test-key"})
	if s.DoveadmURL == "" {
		t.Fatal("DoveadmURL is empty")
	}
	body := `[["who",{},"w1"]]`
	req, err := http.NewRequest(http.MethodPost, s.DoveadmURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", s.DoveadmAuthorization())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(out), `"doveadmResponse"`) {
		t.Fatalf("doveadm who: %s %s", resp.Status, out)
	}
}

// Test names become t.TempDir paths, and Dovecot expands % in paths.
func TestPercentInPath(t *testing.T) {
	t.Run("100%{usecs}", func(t *testing.T) {
		s := Start(t, Options{Users: []User{{"a", "b"}}})
		c, err := DialIMAP(s.IMAPAddr, "")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Login("a", "b"); err != nil {
			t.Fatalf("%v\n%s", err, s.Log(t))
		}
	})
}
