// Package dovecot turns Dovecot's log lines into sign-in events: the
// login processes' "Login:"/"Logged in:" lines (success) and their
// "Disconnected"/"Aborted login"/"Login aborted" lines with "auth failed"
// (failure), for Dovecot 2.3 and 2.4, under any framing ingest/syslog
// reads, including Dovecot's own log files.
//
// One connection becomes one event. Its session id (session=<...>) ties
// the lines together: the auth process's verbose line ("passwd-file(user,
// ip,<session>): unknown user", likewise for pam, sql and ldap) says why a
// connection failed, and the login process's line that ends it gives the
// protocol, the addresses and the verdict; the event is emitted then,
// with the session id as its id (and as session_id for a success, which
// the Dovecot revocation hook can target). Lines that carry no sign-in
// (mail process logouts, master and stats messages, connections that
// never tried to authenticate) are skipped.
package dovecot

import (
	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/syslog"
)

// FormatName is what --format takes for Dovecot logs.
const FormatName = "dovecot"

// Format reads Dovecot logs in any framing ingest/syslog knows; lines of
// other programs are skipped.
func Format(opt syslog.Options) ingest.Format {
	return syslog.NewFormat(FormatName, "Dovecot 2.3/2.4 sign-ins from syslog, journald or Dovecot's own log", opt, NewProgram)
}
