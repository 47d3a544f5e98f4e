package postfix

import (
	"testing"
	"time"

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/syslog"
)

func FuzzDecode(f *testing.F) {
	for _, l := range []string{
		"Mar  2 08:31:07 mx1 postfix/submission/smtpd[982]: 4Q1x2y3z4: client=unknown[203.0.113.5], sasl_method=PLAIN, sasl_username=Anna@Example.org",
		"Mar  2 08:31:07 mx1 postfix/smtpd[982]: warning: unknown[198.51.100.7]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=anna@example.org",
		"Mar  2 08:31:07 mx1 postfix/smtpd[982]: warning: [: SASL  authentication failed, sasl_username=",
		"Mar  2 08:31:07 mx1 postfix/smtpd[982]: : client=]x[, sasl_username=",
	} {
		f.Add([]byte(l))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		d := Format(syslog.Options{Location: time.UTC, Year: 2026}).New()
		_ = d.Decode(line, func(e ingest.Event) {
			if e.User == "" || !e.IP.IsValid() || e.Protocol != "smtp" {
				t.Fatalf("incomplete event %+v from %q", e, line)
			}
		})
	})
}
