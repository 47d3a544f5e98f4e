package postfix

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/syslog"
)

func TestSASLLines(t *testing.T) {
	tests := []struct {
		name, line string
		want       string // the event; "" for a skipped line
	}{
		{"success",
			"Mar  2 08:31:07 mx1 postfix/submission/smtpd[982]: 4Q1x2y3z4: client=unknown[203.0.113.5], sasl_method=PLAIN, sasl_username=Anna@Example.org",
			`{"time":"2026-03-02T08:31:07Z","user":"anna@example.org","ip":"203.0.113.5","type":"login","outcome":"success","protocol":"smtp","id":"4Q1x2y3z4","source":"postfix"}`},
		{"success, IPv6 with port and sender",
			"Mar  2 08:31:07 mx1 postfix/smtpd[982]: 4Q1x2y3z5: client=mail.example.net[2001:db8::25]:51234, sasl_method=LOGIN, sasl_username=bob, sasl_sender=bob@example.net",
			`{"time":"2026-03-02T08:31:07Z","user":"bob","ip":"2001:db8::25","type":"login","outcome":"success","protocol":"smtp","id":"4Q1x2y3z5","source":"postfix"}`},
		{"failure with sasl_username",
			"Mar  2 08:31:07 mx1 postfix/smtpd[982]: warning: unknown[198.51.100.7]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=anna@example.org",
			`{"time":"2026-03-02T08:31:07Z","user":"anna@example.org","ip":"198.51.100.7","type":"login","outcome":"failure","protocol":"smtp","source":"postfix"}`},
		{"failure, rfc5424",
			"<20>1 2026-03-02T08:31:07.5+01:00 mx1 postfix/smtps/smtpd 982 - - warning: host.example[198.51.100.8]: SASL PLAIN authentication failed: authentication failure, sasl_username=user with space",
			`{"time":"2026-03-02T07:31:07.5Z","user":"user with space","ip":"198.51.100.8","type":"login","outcome":"failure","protocol":"smtp","source":"postfix"}`},
		{"failure without user", "Mar  2 08:31:07 mx1 postfix/smtpd[982]: warning: unknown[198.51.100.7]: SASL LOGIN authentication failed: UGFzc3dvcmQ6", ""},
		{"auth server down", "Jan 29 08:11:45 mail postfix/smtpd[10752]: warning: unknown[1.1.1.1]: SASL LOGIN authentication failed: Connection lost to authentication server, sasl_username=x", ""},
		{"connect", "Mar  2 08:31:07 mx1 postfix/smtpd[982]: connect from unknown[203.0.113.5]", ""},
		{"mail without auth", "Mar  2 08:31:07 mx1 postfix/smtpd[982]: 4Q1x2y3z6: client=unknown[203.0.113.5]", ""},
		{"qmgr", "Mar  2 08:31:07 mx1 postfix/qmgr[11]: 4Q1x2y3z4: from=<a@b>, size=1, nrcpt=1 (queue active)", ""},
		{"dovecot", "Mar  2 08:31:07 mx1 dovecot: imap-login: Login: user=<a>", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Format(syslog.Options{Location: time.UTC, Year: 2026}).New()
			var got []string
			err := d.Decode([]byte(tc.line), func(e ingest.Event) {
				var b strings.Builder
				enc := json.NewEncoder(&b)
				enc.SetEscapeHTML(false)
				_ = enc.Encode(e)
				got = append(got, strings.TrimSpace(b.String()))
			})
			if tc.want == "" {
				if !errors.Is(err, ingest.ErrSkip) || len(got) != 0 {
					t.Fatalf("got %v, %v; want the line skipped", got, err)
				}
				return
			}
			if err != nil || len(got) != 1 || got[0] != tc.want {
				t.Fatalf("got %v, %v\nwant %s", got, err, tc.want)
			}
		})
	}
}

func TestBadClientIsAnError(t *testing.T) {
	d := Format(syslog.Options{}).New()
	err := d.Decode([]byte("Mar  2 08:31:07 mx1 postfix/smtpd[982]: warning: unknown[999.1.1.1]: SASL LOGIN authentication failed: x, sasl_username=a"), func(ingest.Event) {})
	if err == nil || errors.Is(err, ingest.ErrSkip) {
		t.Fatalf("got %v, want an error for the dead letters", err)
	}
}
