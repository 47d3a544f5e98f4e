package syslog

import (
	"errors"
	"testing"
	"time"
)

var berlin = mustZone("Europe/Berlin")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.FixedZone("CET", 3600)
	}
	return loc
}

func fixedNow(s string) func() time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return func() time.Time { return t }
}

func TestParseFramings(t *testing.T) {
	opt := Options{Location: time.UTC, Now: fixedNow("2026-03-05T12:00:00Z")}
	tests := []struct {
		name, line           string
		time, host, app, pid string
		text, body           string
	}{
		{"rfc3164", "Mar  2 08:31:07 mail dovecot[442]: imap-login: Login: user=<a>",
			"2026-03-02T08:31:07Z", "mail", "dovecot", "442", "imap-login: Login: user=<a>", "dovecot[442]: imap-login: Login: user=<a>"},
		{"rfc3164 zero-padded day, no pid", "Mar 02 08:31:07 mail dovecot: x",
			"2026-03-02T08:31:07Z", "mail", "dovecot", "", "x", "dovecot: x"},
		{"rfc3164 with priority", "<22>Mar  2 08:31:07 mx1 postfix/submission/smtpd[9]: warning: x",
			"2026-03-02T08:31:07Z", "mx1", "postfix/submission/smtpd", "9", "warning: x", "postfix/submission/smtpd[9]: warning: x"},
		{"facility.level after the host", "May 30 22:00:35 gr mail.warn postfix/smtps/smtpd[27561]: warning: x",
			"2025-05-30T22:00:35Z", "gr", "postfix/smtps/smtpd", "27561", "warning: x", "postfix/smtps/smtpd[27561]: warning: x"},
		{"dovecot own log file", "Mar 02 08:31:07 imap-login: Info: Login: user=<a>",
			"2026-03-02T08:31:07Z", "", "imap-login", "", "Info: Login: user=<a>", "imap-login: Info: Login: user=<a>"},
		{"dovecot own log file, mail process", "Mar 02 08:31:07 imap(a@b)<14199><6Wni>: Info: Disconnected",
			"2026-03-02T08:31:07Z", "", "", "", "imap(a@b)<14199><6Wni>: Info: Disconnected", "imap(a@b)<14199><6Wni>: Info: Disconnected"},
		{"dovecot ISO log_timestamp", "2026-03-02 08:31:07.250 auth: Info: x",
			"2026-03-02T08:31:07.25Z", "", "auth", "", "Info: x", "auth: Info: x"},
		{"rsyslog high precision", "2026-03-02T08:31:07.251234+01:00 mail dovecot[442]: imap-login: x",
			"2026-03-02T07:31:07.251234Z", "mail", "dovecot", "442", "imap-login: x", "dovecot[442]: imap-login: x"},
		{"rfc5424", `<22>1 2026-03-02T08:31:07.003Z mail.example.org dovecot 442 - [meta x="a\]b"] imap-login: x`,
			"2026-03-02T08:31:07.003Z", "mail.example.org", "dovecot", "442", "imap-login: x", "imap-login: x"},
		{"rfc5424 nil values and BOM", "<22>1 2026-03-02T08:31:07Z - - - - - \xef\xbb\xbfhello",
			"2026-03-02T08:31:07Z", "", "", "", "hello", "hello"},
		{"journald", `{"__REALTIME_TIMESTAMP":"1772440267251234","_HOSTNAME":"mail","SYSLOG_IDENTIFIER":"dovecot","_PID":"442","MESSAGE":"imap-login: x"}`,
			"2026-03-02T08:31:07.251234Z", "mail", "dovecot", "442", "imap-login: x", "imap-login: x"},
		{"journald byte-array message", `{"__REALTIME_TIMESTAMP":"1772440267000000","SYSLOG_IDENTIFIER":"dovecot","MESSAGE":[104,105,255]}`,
			"2026-03-02T08:31:07Z", "", "dovecot", "", "hi\xff", "hi\xff"},
		{"omkafka jsonmesg", `{"msg":" imap-login: x","timereported":"2026-03-02T08:31:07.5+00:00","hostname":"mail","syslogtag":"dovecot[442]:","programname":"dovecot","procid":"442"}`,
			"2026-03-02T08:31:07.5Z", "mail", "dovecot", "442", "imap-login: x", "imap-login: x"},
		{"omkafka template with syslogtag only", `{"@timestamp":"2026-03-02T08:31:07Z","host":"mail","syslogtag":"dovecot[7]:","message":"imap-login: x"}`,
			"2026-03-02T08:31:07Z", "mail", "dovecot", "7", "imap-login: x", "imap-login: x"},
		{"omkafka template forwarding the raw line", `{"message":"Mar  2 08:31:07 mail dovecot: imap-login: x"}`,
			"2026-03-02T08:31:07Z", "mail", "dovecot", "", "imap-login: x", "dovecot: imap-login: x"},
		{"omkafka template, tag inside msg", `{"timestamp":"Mar  2 08:31:07","host":"mail","msg":"dovecot: imap-login: x"}`,
			"2026-03-02T08:31:07Z", "mail", "dovecot", "", "imap-login: x", "dovecot: imap-login: x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewParser(opt).Parse([]byte(tc.line))
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Time.Format(time.RFC3339Nano); got != tc.time {
				t.Errorf("time %s, want %s", got, tc.time)
			}
			if m.Host != tc.host || m.App != tc.app || m.PID != tc.pid {
				t.Errorf("host/app/pid %q/%q/%q, want %q/%q/%q", m.Host, m.App, m.PID, tc.host, tc.app, tc.pid)
			}
			if string(m.Text) != tc.text || string(m.Body) != tc.body {
				t.Errorf("text %q body %q, want %q and %q", m.Text, m.Body, tc.text, tc.body)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	for _, line := range []string{
		"", "hello world", "Foo  2 08:31:07 mail x: y", "Mar 32 08:31:07 mail x: y", "Mar  2 25:31:07 mail x: y",
		"<999999>1 x", "<22>1 - host app - - - msg", `{"MESSAGE":"x"}`, `{"__REALTIME_TIMESTAMP":"x","MESSAGE":"y"}`,
		"{not json", "2026-13-02T08:31:07Z host x: y", "Mar  2 08:31:07",
	} {
		if _, err := NewParser(Options{}).Parse([]byte(line)); !errors.Is(err, ErrFraming) {
			t.Errorf("%q: got %v, want ErrFraming", line, err)
		}
	}
}

func TestYearInference(t *testing.T) {
	tests := []struct {
		name  string
		opt   Options
		lines []string
		want  []string
	}{
		{"current year", Options{Now: fixedNow("2026-03-05T12:00:00Z")},
			[]string{"Mar  5 11:00:00"}, []string{"2026-03-05T11:00:00Z"}},
		{"a few days ahead is clock skew, not last year", Options{Now: fixedNow("2026-03-05T12:00:00Z")},
			[]string{"Mar  9 11:00:00"}, []string{"2026-03-09T11:00:00Z"}},
		{"December read in January is last year's", Options{Now: fixedNow("2027-01-03T00:00:00Z")},
			[]string{"Dec 30 23:59:59", "Dec 31 23:59:59", "Jan  1 00:00:01", "Dec 31 23:59:58"},
			[]string{"2026-12-30T23:59:59Z", "2026-12-31T23:59:59Z", "2027-01-01T00:00:01Z", "2026-12-31T23:59:58Z"}},
		{"pinned year rolls over", Options{Year: 2019},
			[]string{"Dec 31 23:00:00", "Jan  1 01:00:00"}, []string{"2019-12-31T23:00:00Z", "2020-01-01T01:00:00Z"}},
		{"leap day goes to a leap year", Options{Now: fixedNow("2027-03-01T00:00:00Z")},
			[]string{"Feb 29 10:00:00"}, []string{"2024-02-29T10:00:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.Location = time.UTC
			p := NewParser(tc.opt)
			for i, l := range tc.lines {
				m, err := p.Parse([]byte(l + " host app: x"))
				if err != nil {
					t.Fatal(err)
				}
				if got := m.Time.Format(time.RFC3339); got != tc.want[i] {
					t.Errorf("%s: got %s, want %s", l, got, tc.want[i])
				}
			}
		})
	}
}

func TestZone(t *testing.T) {
	p := NewParser(Options{Location: berlin, Year: 2026})
	m, err := p.Parse([]byte("Jul  1 12:00:00 host app: x"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Time.Format(time.RFC3339); got != "2026-07-01T10:00:00Z" {
		t.Errorf("Berlin summer noon is %s in UTC, want 10:00", got)
	}
}
