package dovecot

import (
	"bytes"

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/syslog"
)

// login reads a login process's line, whose text is a status and then a
// list of "key=value" and bare flags:
//
//	Login: user=<anna@example.org>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.10, mpid=14199, TLS, session=<6WniJNlgrNV/AAAB>
//	Logged in: user=<anna@example.org>, ...                                   (2.4)
//	Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): user=<anna@example.org>, method=PLAIN, rip=..., session=<...>
//	Aborted login (auth failed, 1 attempts in 17 secs): user=<test>, ...      (2.2, early 2.3)
//	Login aborted: Connection closed (auth failed, 1 attempts in 2 secs) (auth_failed): user=<...>, ...  (2.3.21+, 2.4)
func (p *Program) login(m *syslog.Message, proto string, text []byte, emit func(ingest.Event)) error {
	status, list := splitStatus(text)
	var outcome string
	switch {
	case string(status) == "Login", string(status) == "Logged in":
		outcome = ingest.OutcomeSuccess
	case bytes.Contains(status, []byte("(auth failed")), bytes.Contains(status, []byte("(auth_failed)")):
		outcome = ingest.OutcomeFailure
	case bytes.Contains(status, []byte("(authorization failed")):
		outcome = ingest.OutcomeFailure
	default:
		return errNoAttempt
	}
	f := parseFields(list)
	e := ingest.Event{
		Time:     m.Time,
		User:     f.user,
		Type:     ingest.TypeLogin,
		Outcome:  outcome,
		Protocol: protocolOf(proto),
		ID:       f.session,
		Source:   FormatName,
	}
	v, known := verdict{}, false
	if f.session != "" {
		v, known = p.take(f.session)
	}
	if outcome == ingest.OutcomeSuccess {
		e.SessionID = f.session
	} else {
		switch {
		case known:
			e.Reason = v.reason
		case bytes.Contains(status, []byte("(authorization failed")):
			e.Reason = ingest.ReasonOther
		}
		if e.User == "" && known {
			e.User = v.user
		}
	}
	if e.User == "" {
		return errNoUser
	}
	ip, err := parseIP(f.rip)
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

// splitStatus splits text at the ": " that starts the field list: the
// first one followed by a known key.
func splitStatus(text []byte) (status, list []byte) {
	for i := 0; i+2 < len(text); i++ {
		if text[i] != ':' || text[i+1] != ' ' {
			continue
		}
		rest := text[i+2:]
		for _, key := range []string{"user=", "method=", "rip="} {
			if bytes.HasPrefix(rest, []byte(key)) {
				return text[:i], rest
			}
		}
	}
	return text, nil
}

// fields are the values of a login line that atod uses.
type fields struct {
	user, rip, session string
}

// parseFields reads "key=value, key=<value>, FLAG, ..." lists. Values in
// angle brackets may contain ", ", so they end at ">, " or at the end.
func parseFields(list []byte) fields {
	var f fields
	for len(list) > 0 {
		var item []byte
		eq := bytes.IndexByte(list, '=')
		comma := bytes.Index(list, []byte(", "))
		if eq >= 0 && (comma < 0 || eq < comma) && eq+1 < len(list) && list[eq+1] == '<' {
			end := bytes.Index(list[eq:], []byte(">, "))
			if end < 0 {
				item, list = list, nil
			} else {
				item, list = list[:eq+end+1], list[eq+end+3:]
			}
		} else if comma >= 0 {
			item, list = list[:comma], list[comma+2:]
		} else {
			item, list = list, nil
		}
		key, val, ok := bytes.Cut(item, []byte{'='})
		if !ok {
			continue
		}
		if len(val) >= 2 && val[0] == '<' && val[len(val)-1] == '>' {
			val = val[1 : len(val)-1]
		}
		switch string(key) {
		case "user":
			f.user = string(val)
		case "rip":
			f.rip = string(val)
		case "session":
			f.session = string(val)
		}
	}
	return f
}

// protocolOf maps a login service to the canonical protocol. ManageSieve
// has no canonical name and is "other".
func protocolOf(service string) string {
	switch service {
	case "imap", "pop3":
		return service
	case "submission":
		return "smtp"
	}
	return "other"
}
