package entra

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/formattest"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/formats/entra")

var fixtures = filepath.Join("..", "..", "testdata", "formats", "entra")

func TestGolden(t *testing.T) { formattest.Golden(t, Format(), fixtures, *update) }

func FuzzDecode(f *testing.F) { formattest.Fuzz(f, Format(), fixtures) }

func TestOutcome(t *testing.T) {
	for _, tc := range []struct {
		code            int
		detail          string
		outcome, reason string
		interrupt       bool
	}{
		{0, "", ingest.OutcomeSuccess, "", false},
		{50126, "", ingest.OutcomeFailure, ingest.ReasonBadPassword, false},
		{50034, "", ingest.OutcomeFailure, ingest.ReasonUnknownUser, false},
		{50053, "", ingest.OutcomeFailure, ingest.ReasonLocked, false},
		{50057, "", ingest.OutcomeFailure, ingest.ReasonLocked, false},
		{500121, "MFA denied; user declined the authentication", ingest.OutcomeFailure, ingest.ReasonMFADenied, false},
		{500121, "MFA denied; user did not respond to mobile app notification", ingest.OutcomeFailure, ingest.ReasonMFATimeout, false},
		{500121, "MFA denied; Phone App Reported Fraud", ingest.OutcomeFailure, ingest.ReasonMFADenied, false},
		{50074, "", "", "", true},
		{50076, "", "", "", true},
		{50140, "", "", "", true},
		{53003, "", ingest.OutcomeFailure, ingest.ReasonOther, false},
		{70043, "", ingest.OutcomeFailure, ingest.ReasonOther, false},
	} {
		o, r, i := Outcome(tc.code, tc.detail)
		if o != tc.outcome || r != tc.reason || i != tc.interrupt {
			t.Errorf("Outcome(%d, %q) = %q, %q, %t; want %q, %q, %t", tc.code, tc.detail, o, r, i, tc.outcome, tc.reason, tc.interrupt)
		}
	}
}

func TestProtocol(t *testing.T) {
	for in, want := range map[string]string{
		"Browser": "web", "Exchange ActiveSync": "activesync", "IMAP4": "imap", "POP3": "pop3",
		"Authenticated SMTP": "smtp", "Exchange Web Services": "ews", "MAPI Over HTTP": "mapi",
		"Mobile Apps and Desktop clients": "other", "Other clients": "other", "": "",
	} {
		if got := protocol(in); got != want {
			t.Errorf("protocol(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkDecode(b *testing.B) { formattest.Bench(b, Format(), fixtures) }
