package dovecot

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/syslog"
)

var testOpt = syslog.Options{Location: time.UTC, Year: 2026}

// decodeAll runs lines through one decoder and returns the events as
// canonical JSON, and how many lines were skipped.
func decodeAll(t *testing.T, lines []string) (events []string, skipped int) {
	t.Helper()
	d := Format(testOpt).New()
	emit := func(e ingest.Event) {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
		events = append(events, strings.TrimSuffix(b.String(), "\n"))
	}
	for _, l := range lines {
		err := d.Decode([]byte(l), emit)
		switch {
		case errors.Is(err, ingest.ErrSkip):
			skipped++
		case err != nil:
			t.Fatalf("%q: %v", l, err)
		}
	}
	d.Flush(emit)
	return events, skipped
}

func TestLoginLines(t *testing.T) {
	tests := []struct {
		name string
		line string
		want string // the event, "" for a skipped line
	}{
		{"2.3 success, syslog",
			"Mar  2 08:31:07 mail dovecot: imap-login: Login: user=<anna@example.org>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.10, mpid=14199, TLS, session=<6WniJNlgrNV/AAAB>",
			`{"time":"2026-03-02T08:31:07Z","user":"anna@example.org","ip":"203.0.113.5","type":"login","outcome":"success","session_id":"6WniJNlgrNV/AAAB","protocol":"imap","id":"6WniJNlgrNV/AAAB","source":"dovecot"}`},
		{"2.3 success, own log file, IPv6",
			"Mar 02 08:31:07 pop3-login: Info: Login: user=<Bob.Meier@Example.ORG>, method=PLAIN, rip=2001:db8::5, lip=2001:db8::1, mpid=12, secured, session=<qkhUvV5OWtcAAAAAAAAAAAAAAAAAAAAB>",
			`{"time":"2026-03-02T08:31:07Z","user":"bob.meier@example.org","ip":"2001:db8::5","type":"login","outcome":"success","session_id":"qkhUvV5OWtcAAAAAAAAAAAAAAAAAAAAB","protocol":"pop3","id":"qkhUvV5OWtcAAAAAAAAAAAAAAAAAAAAB","source":"dovecot"}`},
		{"2.4 success",
			"Mar  2 08:31:07 mail dovecot[1]: submission-login: Logged in: user=<anna@example.org>, method=LOGIN, rip=::ffff:198.51.100.7, lip=192.0.2.10, mpid=5, TLS, session=<s24>",
			`{"time":"2026-03-02T08:31:07Z","user":"anna@example.org","ip":"198.51.100.7","type":"login","outcome":"success","session_id":"s24","protocol":"smtp","id":"s24","source":"dovecot"}`},
		{"managesieve is other",
			"Mar  2 08:31:07 mail dovecot: managesieve-login: Login: user=<anna>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.10, mpid=1, session=<m1>",
			`{"time":"2026-03-02T08:31:07Z","user":"anna","ip":"203.0.113.5","type":"login","outcome":"success","session_id":"m1","protocol":"other","id":"m1","source":"dovecot"}`},
		{"2.3 disconnect after failure",
			"Mar  2 08:31:09 mail dovecot: imap-login: Disconnected: Connection closed (auth failed, 3 attempts in 15 secs): user=<anna@example.org>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.10, TLS, session=<f1>",
			`{"time":"2026-03-02T08:31:09Z","user":"anna@example.org","ip":"203.0.113.5","type":"login","outcome":"failure","protocol":"imap","id":"f1","source":"dovecot"}`},
		{"old aborted login",
			"Jul  2 13:49:31 hostname dovecot[442]: pop3-login: Aborted login (auth failed, 1 attempts in 17 secs): user=<test>, method=PLAIN, rip=192.51.100.13, lip=203.0.113.17, session=<YADINsQCDs5BH8Pg>",
			`{"time":"2026-07-02T13:49:31Z","user":"test","ip":"192.51.100.13","type":"login","outcome":"failure","protocol":"pop3","id":"YADINsQCDs5BH8Pg","source":"dovecot"}`},
		{"disconnect with a read error and TLS details",
			"Nov 14 03:51:22 mail dovecot: pop3-login: Disconnected: Connection closed: read(size=988) failed: Connection reset by peer (auth failed, 1 attempts in 2 secs): user=<shop@example.org>, method=PLAIN, rip=198.51.100.189, lip=192.0.2.4, TLS: Disconnected, TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
			`{"time":"2026-11-14T03:51:22Z","user":"shop@example.org","ip":"198.51.100.189","type":"login","outcome":"failure","protocol":"pop3","source":"dovecot"}`},
		{"2.4 login aborted",
			"Feb 25 08:43:16 hera dovecot[942]: imap-login: Login aborted: Connection closed (auth failed, 1 attempts in 2 secs) (auth_failed): user=<ma.zhang@example.org>, method=LOGIN, rip=2001:db8:1::7, lip=2001:db8::1, TLS, session=<d3oaKKFLYNx/AAAB>",
			`{"time":"2026-02-25T08:43:16Z","user":"ma.zhang@example.org","ip":"2001:db8:1::7","type":"login","outcome":"failure","protocol":"imap","id":"d3oaKKFLYNx/AAAB","source":"dovecot"}`},
		{"authorization failure",
			"Mar  2 08:31:09 mail dovecot: imap-login: Disconnected (authorization failed, 1 attempts in 0 secs): user=<master*anna>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.10, session=<z1>",
			`{"time":"2026-03-02T08:31:09Z","user":"master*anna","ip":"203.0.113.5","type":"login","outcome":"failure","reason":"other","protocol":"imap","id":"z1","source":"dovecot"}`},
		{"odd user name with comma and angle bracket",
			"Mar  2 08:31:09 mail dovecot: imap-login: Aborted login (auth failed, 1 attempts in 2 secs): user=<\"x, y\"<z>@example.org>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.10, session=<o1>",
			`{"time":"2026-03-02T08:31:09Z","user":"\"x, y\"<z>@example.org","ip":"203.0.113.5","type":"login","outcome":"failure","protocol":"imap","id":"o1","source":"dovecot"}`},
		{"no auth attempts", "Mar  2 08:31:09 mail dovecot: imap-login: Disconnected (no auth attempts in 0 secs): user=<>, rip=203.0.113.5, lip=192.0.2.10, session=<n1>", ""},
		{"plaintext disabled", "Mar  2 08:31:09 mail dovecot: pop3-login: Aborted login (tried to use disabled plaintext auth): rip=190.210.136.21, lip=113.212.99.193", ""},
		{"failure without user", "Jun 14 00:48:21 platypus dovecot: imap-login: Disconnected (auth failed, 1 attempts): method=PLAIN, rip=59.167.242.100, lip=113.212.99.194, TLS: Disconnected", ""},
		{"mail process logout", "Mar  2 08:31:11 mail dovecot: imap(anna@example.org)<14199><6WniJNlgrNV/AAAB>: Logged out in=12 out=477 deleted=0 expunged=0 trashed=0", ""},
		{"master", "Mar 02 08:19:52 master: Info: Dovecot v2.3.19.1 (9b53102964) starting up for imap (core dumps disabled)", ""},
		{"another program", "Mar  2 08:31:11 mail CRON[352]: pam_unix(cron:session): session closed for user root", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			events, skipped := decodeAll(t, []string{tc.line})
			if tc.want == "" {
				if len(events) != 0 || skipped != 1 {
					t.Fatalf("got events %v, skipped %d; want the line skipped", events, skipped)
				}
				return
			}
			if len(events) != 1 || events[0] != tc.want {
				t.Fatalf("got %v\nwant %s", events, tc.want)
			}
		})
	}
}

func TestAuthVerdictsJoinTheirConnection(t *testing.T) {
	closing := func(session string) string {
		return "Mar  2 08:31:09 mail dovecot: imap-login: Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): user=<anna@example.org>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.10, session=<" + session + ">"
	}
	tests := []struct {
		name, auth, reason string
	}{
		{"passwd-file mismatch", "Mar  2 08:31:07 mail dovecot: auth: passwd-file(anna@example.org,203.0.113.5,<S>): Password mismatch", "bad_password"},
		{"passwd-file unknown, own log", "Mar 02 08:31:07 auth: Info: passwd-file(anna@example.org,203.0.113.5,<S>): unknown user", "unknown_user"},
		{"pam mismatch", "Mar  2 08:31:07 mail dovecot: auth-worker(9977): pam(anna,203.0.113.5,<S>): pam_authenticate() failed: Authentication failure (password mismatch?)", "bad_password"},
		{"pam unknown", "Mar  2 08:31:07 mail dovecot: auth-worker(9977): pam(anna,203.0.113.5,<S>): pam_authenticate() failed: User not known to the underlying authentication module", "unknown_user"},
		{"pam expired", "Mar  2 08:31:07 mail dovecot: auth-worker(9977): pam(anna,203.0.113.5,<S>): pam_authenticate() failed: Authentication token is no longer valid; new one required: user account has expired", "locked"},
		{"sql mismatch, conn prefix", "Mar  2 08:31:07 mail dovecot: auth-worker(7017): Info: conn unix:auth-worker (pid=7009,uid=97): auth-worker<1>: sql(anna@example.org,2001:db8::5,<S>): Password mismatch", "bad_password"},
		{"sql unknown", "Mar  2 08:31:07 mail dovecot: auth-worker(7017): sql(anna@example.org,203.0.113.5,<S>): unknown user", "unknown_user"},
		{"ldap unknown", "Mar  2 08:31:07 mail dovecot: auth: ldap(anna@example.org,203.0.113.5,<S>): unknown user", "unknown_user"},
		{"ldap bind", "Mar  2 08:31:07 mail dovecot: auth: ldap(anna@example.org,203.0.113.5,<S>): invalid credentials", "bad_password"},
		{"2.4 request prefix", "Mar  2 08:31:07 mail dovecot: auth-worker(anna@example.org,203.0.113.5)<1><S>: conn unix:auth-worker (pid=1,uid=2): ldap(anna@example.org,203.0.113.5): Password mismatch", "bad_password"},
		{"verbose passwords", "Mar  2 08:31:07 mail dovecot: auth: passwd-file(anna@example.org,203.0.113.5,<S>): Password mismatch (given password: hunter2)", "bad_password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			events, skipped := decodeAll(t, []string{tc.auth, closing("S")})
			if skipped != 0 || len(events) != 1 {
				t.Fatalf("got %v, %d skipped; want one event", events, skipped)
			}
			if want := `"reason":"` + tc.reason + `"`; !strings.Contains(events[0], want) {
				t.Errorf("got %s, want %s", events[0], want)
			}
		})
	}
}

func TestOneEventPerConnection(t *testing.T) {
	lines := []string{
		// Two failed attempts, then a success, on one connection.
		"Mar  2 08:31:01 mail dovecot: auth: passwd-file(anna,203.0.113.5,<C1>): Password mismatch",
		"Mar  2 08:31:03 mail dovecot: auth: passwd-file(anna,203.0.113.5,<C1>): Password mismatch",
		"Mar  2 08:31:05 mail dovecot: imap-login: Login: user=<anna>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.10, mpid=9, session=<C1>",
		"Mar  2 08:32:05 mail dovecot: imap(anna)<9><C1>: Logged out in=1 out=2",
		// A verdict about a connection in which another name was tried last.
		"Mar  2 08:33:00 mail dovecot: auth: passwd-file(ghost,203.0.113.6,<C2>): unknown user",
		"Mar  2 08:33:02 mail dovecot: imap-login: Aborted login (auth failed, 1 attempts in 2 secs): method=PLAIN, rip=203.0.113.6, lip=192.0.2.10, session=<C2>",
		// A verdict whose connection line never comes is no event.
		"Mar  2 08:34:00 mail dovecot: auth: passwd-file(lost,203.0.113.7,<C3>): unknown user",
	}
	events, skipped := decodeAll(t, lines)
	want := []string{
		`{"time":"2026-03-02T08:31:05Z","user":"anna","ip":"203.0.113.5","type":"login","outcome":"success","session_id":"C1","protocol":"imap","id":"C1","source":"dovecot"}`,
		`{"time":"2026-03-02T08:33:02Z","user":"ghost","ip":"203.0.113.6","type":"login","outcome":"failure","reason":"unknown_user","protocol":"imap","id":"C2","source":"dovecot"}`,
	}
	if strings.Join(events, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(events, "\n"), strings.Join(want, "\n"))
	}
	if skipped != 1 {
		t.Errorf("skipped %d, want 1 (the logout)", skipped)
	}
}

func TestPendingIsBounded(t *testing.T) {
	p := NewProgram().(*Program)
	for i := range 3 * maxPending {
		p.remember(strings.Repeat("x", i%7)+string(rune('a'+i%26))+time.Duration(i).String(), verdict{user: "u"})
	}
	if len(p.pending) > maxPending || len(p.order) > maxPending {
		t.Fatalf("pending %d, order %d; want at most %d", len(p.pending), len(p.order), maxPending)
	}
}

func TestVerdictWithoutSessionIsSkipped(t *testing.T) {
	_, skipped := decodeAll(t, []string{"Jul  2 13:49:32 host dovecot: auth: pam(account@example.com,200.76.17.206): pam_authenticate() failed: User not known to the underlying authentication module"})
	if skipped != 1 {
		t.Fatalf("skipped %d, want 1", skipped)
	}
}

func TestBadAddressIsAnError(t *testing.T) {
	d := Format(testOpt).New()
	err := d.Decode([]byte("Mar  2 08:31:07 mail dovecot: imap-login: Login: user=<a>, method=PLAIN, rip=not-an-ip, lip=1.2.3.4, session=<x>"), func(ingest.Event) {})
	if err == nil || errors.Is(err, ingest.ErrSkip) {
		t.Fatalf("got %v, want an error for the dead letters", err)
	}
}
