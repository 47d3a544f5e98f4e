package dovecot

import (
	"context"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest/dovecot/dovecottest"
)

// doveadm kick's mask takes an account name or an IP address/range: an
// element that parses as IP[/bits] selects connections by address. Revoke
// refuses names with * or ? for that reason ("would match other users"),
// but an account name such as "0.0.0.0/0", "::/0" or "127.0.0.1" (it comes
// from log lines) is sent as the mask as it is, and ends the sessions of
// every user connected from that range: one decision, every mailbox.
func TestKickRefusesNameThatIsAnAddressRange(t *testing.T) {
	srv := dovecottest.Start(t, dovecottest.Options{
		Users:         []dovecottest.User{{Name: "anna@example.org", Password: "pw"}},
		DoveadmAPIKey: "test-key",
	})
	closed := dovecottest.HoldIMAP(t, srv.IMAPAddr, "anna@example.org", "pw")
	cfg := DefaultConfig()
	cfg.URL = srv.DoveadmURL
	c, err := New(cfg, Options{LookupEnv: func(k string) (string, bool) { return "test-key", k == EnvAPIKey }})
	if err != nil {
		t.Fatal(err)
	}
	const name = "0.0.0.0/0"
	_, rerr := c.Revoke(context.Background(), name, detector.Alert{ID: "sec1", User: name})
	select {
	case <-closed:
		t.Errorf("revoking account %q closed anna@example.org's IMAP session (Revoke err=%v); want the name refused like * and ?", name, rerr)
	case <-time.After(3 * time.Second):
		if rerr == nil {
			t.Errorf("Revoke(%q) succeeded; want an error: the name reads as an address range to doveadm kick", name)
		}
	}
}
