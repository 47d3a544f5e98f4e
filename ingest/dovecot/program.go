package dovecot

import (
	"bytes"
	"fmt"

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/syslog"
)

// maxPending bounds the auth verdicts waiting for their connection's last
// line. A connection whose login-process line never comes (a lost
// datagram, a crash) must not hold memory forever; the oldest verdict
// goes first.
const maxPending = 4096

// Program decodes the Dovecot lines of one stream (see the package doc).
type Program struct {
	canon   syslog.Canonicalizer
	pending map[string]verdict // auth verdicts by session id
	order   []string           // session ids in arrival order, for eviction
	next    int                // oldest entry of order once it is full
}

// verdict is what the auth process said about a connection.
type verdict struct {
	user, reason string
}

var _ syslog.Program = (*Program)(nil)

// NewProgram returns a Program for one stream.
func NewProgram() syslog.Program {
	return &Program{pending: make(map[string]verdict)}
}

// Match accepts messages tagged dovecot, and untagged ones (Dovecot's own
// log files) that start with a Dovecot service name.
func (p *Program) Match(m *syslog.Message) bool {
	if m.App == "dovecot" {
		return true
	}
	return m.Host == "" && len(serviceOf(m.Body)) > 0
}

// Decode implements syslog.Program.
func (p *Program) Decode(m *syslog.Message, emit func(ingest.Event)) error {
	body := m.Body
	if m.App == "dovecot" {
		body = m.Text
	}
	service := serviceOf(body)
	if len(service) == 0 {
		return errNotLogin
	}
	rest := body[len(service):]
	switch {
	case string(service) == "auth" || string(service) == "auth-worker":
		// The rest may be "(pid): " or, in 2.4, "(user,ip)<n><session>: ".
		return p.auth(rest)
	case bytes.HasSuffix(service, []byte("-login")) && len(rest) > 0 && rest[0] == ':':
		return p.login(m, string(service[:len(service)-len("-login")]), stripLevel(rest[1:]), emit)
	}
	return errNotLogin
}

// Flush implements syslog.Program: auth verdicts alone are no events.
func (p *Program) Flush(func(ingest.Event)) {}

// remember keeps an auth verdict for its session until the login process
// reports how the connection ended.
func (p *Program) remember(session string, v verdict) {
	if _, ok := p.pending[session]; !ok {
		if len(p.order) < maxPending {
			p.order = append(p.order, session)
		} else {
			delete(p.pending, p.order[p.next])
			p.order[p.next] = session
			p.next = (p.next + 1) % maxPending
		}
	}
	p.pending[session] = v
}

// take returns and forgets the verdict of a session. Its slot in order
// stays until reused; deleting a key that is no longer there is harmless.
func (p *Program) take(session string) (verdict, bool) {
	v, ok := p.pending[session]
	if ok {
		delete(p.pending, session)
	}
	return v, ok
}

// Skip reasons, allocated once.
var (
	errNotLogin  = fmt.Errorf("%w: Dovecot line without a sign-in", ingest.ErrSkip)
	errNoAttempt = fmt.Errorf("%w: Dovecot connection that did not try to authenticate", ingest.ErrSkip)
	errNoUser    = fmt.Errorf("%w: Dovecot authentication failure that names no user", ingest.ErrSkip)
	errNoSession = fmt.Errorf("%w: Dovecot auth verdict without a session id (its connection's own line counts it)", ingest.ErrSkip)
)

// serviceOf returns the name of the Dovecot service that starts body
// ("imap-login", "auth", "auth-worker" of "auth-worker(123):"), or nil.
func serviceOf(body []byte) []byte {
	i := 0
	for i < len(body) && (body[i] >= 'a' && body[i] <= 'z' || body[i] == '-' || body[i] >= '0' && body[i] <= '9') {
		i++
	}
	if i == 0 || i == len(body) || (body[i] != ':' && body[i] != '(') {
		return nil
	}
	name := body[:i]
	if bytes.HasSuffix(name, []byte("-login")) || string(name) == "auth" || string(name) == "auth-worker" {
		return name
	}
	switch string(name) {
	case "imap", "pop3", "submission", "managesieve", "lmtp", "master", "config", "stats", "anvil", "log", "doveadm", "indexer", "indexer-worker", "dict", "lda", "imap-hibernate":
		return name
	}
	return nil
}

// stripLevel removes the " Info: " level Dovecot's own log files put
// after the service.
func stripLevel(b []byte) []byte {
	b = bytes.TrimLeft(b, " ")
	for _, level := range []string{"Info: ", "Warning: ", "Error: ", "Debug: ", "Fatal: ", "Panic: "} {
		if bytes.HasPrefix(b, []byte(level)) {
			return b[len(level):]
		}
	}
	return b
}
