package postfix

import (
	"testing"
	"time"

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/syslog"
)

// The rsyslog omkafka template of docs/mail-servers.md forwards
// "programname", which rsyslog cuts at the first "/" of the tag (unless
// parser.permitSlashInProgramName is on): Postfix's "postfix/smtpd[982]:"
// arrives as programname "postfix" (the doc's own filter says
// `$programname startswith "postfix"`). %jsonmesg% has the same
// programname (and app-name) and adds syslogtag "postfix/smtpd[982]:".
// Either way the SASL lines must give events, not be skipped.
func TestRsyslogTemplatePostfixSASL(t *testing.T) {
	for _, tc := range []struct{ name, line, outcome string }{
		{"atod_json template, failure",
			`{"timereported":"2026-03-02T08:31:07.120+00:00","hostname":"mx1","programname":"postfix","procid":"982","msg":" warning: unknown[198.51.100.7]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=anna@example.org"}`,
			ingest.OutcomeFailure},
		{"atod_json template, success",
			`{"timereported":"2026-03-02T08:31:07.120+00:00","hostname":"mx1","programname":"postfix","procid":"982","msg":" 4Q1x2y3z4: client=unknown[203.0.113.5], sasl_method=PLAIN, sasl_username=anna@example.org"}`,
			ingest.OutcomeSuccess},
		{"jsonmesg, failure",
			`{"msg":" warning: unknown[198.51.100.7]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=anna@example.org","timereported":"2026-03-02T08:31:07.120+00:00","hostname":"mx1","syslogtag":"postfix\/smtpd[982]:","programname":"postfix","app-name":"postfix","procid":"982"}`,
			ingest.OutcomeFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Format(syslog.Options{Location: time.UTC, Year: 2026}).New()
			var got []ingest.Event
			err := d.Decode([]byte(tc.line), func(e ingest.Event) { got = append(got, e) })
			if err != nil || len(got) != 1 || got[0].Outcome != tc.outcome || got[0].User != "anna@example.org" {
				t.Fatalf("got %+v, err %v; want one %s of anna@example.org", got, err, tc.outcome)
			}
		})
	}
}
