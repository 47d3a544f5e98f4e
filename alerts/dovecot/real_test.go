package dovecot

import (
	"context"
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
	closed := dovecottest.HoldIMAP(t, srv.IMAPAddr, "anna@example.org", "pw")
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
