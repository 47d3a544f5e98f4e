package dovecot

import (
	"bytes"
	"net/netip"

	"github.com/atod-project/atod/ingest"
)

// auth reads a verdict of the auth process (auth_verbose=yes):
//
//	passwd-file(anna@example.org,203.0.113.5,<vDpuJNlgmNV/AAAB>): Password mismatch
//	pam(anna,203.0.113.5,<sess>): pam_authenticate() failed: Authentication failure (password mismatch?)
//	conn unix:auth-worker (pid=7,uid=97): auth-worker<1>: sql(anna,2001:db8::5,<sess>): unknown user
//
// The request prefix "DRIVER(user,ip[,<session>])" is the last
// parenthesised group with a comma that is followed by ": ". A verdict is
// kept for its session until the connection's last line; it is no event
// of its own, because that line counts the attempt.
func (p *Program) auth(rest []byte) error {
	args, text, session, ok := requestPrefix(rest)
	if !ok {
		return errNotLogin
	}
	reason := failureReason(text)
	if reason == "" {
		return errNotLogin
	}
	user, ip, _ := splitRequest(args)
	if session == "" {
		return errNoSession
	}
	if _, err := netip.ParseAddr(ip); err != nil && ip != "" {
		return errNotLogin
	}
	p.remember(session, verdict{user: user, reason: reason})
	return nil
}

// requestPrefix finds the last "name(args)[<...>...]: text" of rest whose
// args contain a comma, and returns args, text, and the session id: the
// last one given by any such prefix, either as "<session>" in its args
// (2.3) or as its last "<...>" group (2.4: "auth-worker(user,ip)<1><session>").
func requestPrefix(rest []byte) (args, text []byte, session string, ok bool) {
	for i := 0; i < len(rest); i++ {
		if rest[i] != '(' {
			continue
		}
		end := bytes.IndexByte(rest[i:], ')')
		if end < 0 {
			break
		}
		end += i
		a := rest[i+1 : end]
		j := end + 1
		for j < len(rest) && rest[j] == '<' {
			k := bytes.IndexByte(rest[j:], '>')
			if k < 0 {
				break
			}
			j += k + 1
		}
		if bytes.IndexByte(a, ',') >= 0 && bytes.HasPrefix(rest[j:], []byte(": ")) {
			args, text, ok = a, rest[j+2:], true
			if _, _, s := splitRequest(a); s != "" {
				session = s
			} else if s := lastAngle(rest[end+1 : j]); s != "" {
				session = s
			}
		}
		i = end
	}
	return args, text, session, ok
}

// splitRequest splits "user,ip[,<session>]" from the right, since user
// names may contain commas.
func splitRequest(args []byte) (user, ip, session string) {
	if i := bytes.LastIndexByte(args, ','); i >= 0 && bytes.HasPrefix(args[i+1:], []byte("<")) {
		session = string(bytes.Trim(args[i+1:], "<>"))
		args = args[:i]
	}
	i := bytes.LastIndexByte(args, ',')
	if i < 0 {
		return string(args), "", session
	}
	return string(args[:i]), string(args[i+1:]), session
}

// lastAngle returns the content of the last "<...>" group of b.
func lastAngle(b []byte) string {
	end := bytes.LastIndexByte(b, '>')
	if end < 0 {
		return ""
	}
	start := bytes.LastIndexByte(b[:end], '<')
	if start < 0 {
		return ""
	}
	return string(b[start+1 : end])
}

// failureReason maps the auth process's words to a canonical reason, or
// "" for messages that are no verdict on a password.
func failureReason(text []byte) string {
	// With auth_verbose_passwords the password tried follows the verdict,
	// "(given password: ...)" or "(SHA1 of given password: ...)": what a
	// client typed must not decide the reason ("Winter2026-expired").
	for _, tail := range []string{" (given password", " (SHA1 of given password"} {
		if i := bytes.Index(text, []byte(tail)); i >= 0 {
			text = text[:i]
		}
	}
	has := func(word string) bool { return containsFold(text, word) }
	switch {
	case has("unknown user"), has("user not known"):
		return ingest.ReasonUnknownUser
	case has("expired"), has("locked"), has("disabled"):
		return ingest.ReasonLocked
	case has("password mismatch"), has("invalid credentials"), has("authentication failure"), has("pam_authenticate() failed"):
		return ingest.ReasonBadPassword
	}
	return ""
}

// containsFold reports whether b contains the lowercase ASCII word,
// ignoring ASCII case, without allocating.
func containsFold(b []byte, word string) bool {
	for i := 0; i+len(word) <= len(b); i++ {
		j := 0
		for j < len(word) {
			c := b[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != word[j] {
				break
			}
			j++
		}
		if j == len(word) {
			return true
		}
	}
	return false
}
