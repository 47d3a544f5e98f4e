// Package postfix turns Postfix smtpd's SASL lines into sign-in events:
//
//	warning: unknown[203.0.113.5]: SASL LOGIN authentication failed: authentication failure, sasl_username=anna@example.org
//	4Q1x2y3z4: client=mail.example.net[2001:db8::25], sasl_method=PLAIN, sasl_username=anna@example.org
//
// A failure names the account only where Postfix logs sasl_username on
// failures (3.x with Dovecot SASL); without it the line is skipped and
// counted, since an event needs a user. A success is logged when the
// authenticated client starts a mail transaction, so a client that signs
// in and sends nothing leaves no success line. Every event has protocol
// smtp; a success's id is its queue id.
package postfix

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/syslog"
)

// FormatName is what --format takes for Postfix logs.
const FormatName = "postfix"

// Format reads Postfix logs in any framing ingest/syslog knows; lines of
// other programs are skipped.
func Format(opt syslog.Options) ingest.Format {
	return syslog.NewFormat(FormatName, "Postfix smtpd SASL sign-ins from syslog or journald", opt, NewProgram)
}

// Program decodes Postfix lines; it keeps no state but a buffer.
type Program struct {
	canon syslog.Canonicalizer
}

var _ syslog.Program = (*Program)(nil)

// NewProgram returns a Program for one stream.
func NewProgram() syslog.Program { return &Program{} }

// Skip reasons, allocated once.
var (
	errNotSASL    = fmt.Errorf("%w: Postfix line without a SASL sign-in", ingest.ErrSkip)
	errNoUser     = fmt.Errorf("%w: Postfix SASL failure that names no user (sasl_username)", ingest.ErrSkip)
	errNotVerdict = fmt.Errorf("%w: Postfix SASL failure of the authentication service, not of the client", ingest.ErrSkip)
)

// Match accepts every Postfix program ("postfix/smtpd",
// "postfix/submission/smtpd", "postfix-out/qmgr").
func (*Program) Match(m *syslog.Message) bool { return strings.HasPrefix(m.App, "postfix") }

// Decode implements syslog.Program.
func (p *Program) Decode(m *syslog.Message, emit func(ingest.Event)) error {
	// "postfix" alone is rsyslog's programname for every Postfix program
	// (it stops at the tag's first "/"): the line shapes below, a SASL
	// failure warning and a client=... sasl_username= line, are smtpd's.
	if !strings.HasSuffix(m.App, "/smtpd") && m.App != "postfix" {
		return errNotSASL
	}
	text := m.Text
	e := ingest.Event{Time: m.Time, Type: ingest.TypeLogin, Protocol: "smtp", Source: FormatName}
	var client []byte
	if rest, ok := bytes.CutPrefix(text, []byte("warning: ")); ok {
		i := bytes.Index(rest, []byte(": SASL "))
		if i < 0 || !bytes.Contains(rest[i:], []byte(" authentication failed")) {
			return errNotSASL
		}
		client = rest[:i]
		why := rest[i:]
		// The authentication service failed, not the client's password.
		if bytes.Contains(why, []byte("Connection lost to authentication server")) ||
			bytes.Contains(why, []byte("authentication server")) && bytes.Contains(why, []byte("temporar")) {
			return errNotVerdict
		}
		e.Outcome = ingest.OutcomeFailure
		e.User = value(why, "sasl_username=")
		if e.User == "" {
			return errNoUser
		}
	} else {
		queueID, rest, ok := bytes.Cut(text, []byte(": client="))
		if !ok || !bytes.Contains(rest, []byte("sasl_username=")) {
			return errNotSASL
		}
		end := bytes.Index(rest, []byte(", "))
		if end < 0 {
			return errNotSASL
		}
		client = rest[:end]
		e.Outcome = ingest.OutcomeSuccess
		e.User = value(rest, "sasl_username=")
		e.ID = string(queueID)
	}
	ip, err := clientIP(client)
	if err != nil {
		return err
	}
	e.IP = ip
	out, err := p.canon.Canonical(e)
	if err != nil {
		return err
	}
	emit(out)
	return nil
}

// Flush implements syslog.Program.
func (*Program) Flush(func(ingest.Event)) {}

// value returns the value of key in a ", "-separated list; a user name
// is the last field, so it runs to the end of the line.
func value(b []byte, key string) string {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return ""
	}
	v := b[i+len(key):]
	if j := bytes.Index(v, []byte(", sasl_")); j >= 0 {
		v = v[:j]
	}
	return string(v)
}

// clientIP reads "name[address]" or "name[address]:port".
func clientIP(client []byte) (netip.Addr, error) {
	open := bytes.IndexByte(client, '[')
	end := bytes.LastIndexByte(client, ']')
	if open < 0 || end < open {
		return netip.Addr{}, fmt.Errorf("postfix: client %q has no [address]", client)
	}
	addr := bytes.TrimPrefix(client[open+1:end], []byte("IPv6:"))
	ip, err := netip.ParseAddr(string(addr))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("postfix: client address %q: %w", addr, err)
	}
	return ip.WithZone("").Unmap(), nil
}
