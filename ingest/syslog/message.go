// Package syslog reads the framings in which mail-server logs reach atod
// and hands each record on as a Message: RFC 3164 lines (the classic
// /var/log/mail.log, with the year inferred and the zone configurable),
// RFC 5424, rsyslog's high-precision file format, Dovecot's own log files,
// journald's export (journalctl -o json), and what rsyslog's omkafka
// forwards, either a plain line or a JSON template.
//
// The framing is recognised line by line, so one stream may mix them. The
// programs that understand the messages (ingest/dovecot, ingest/postfix)
// plug in as Programs; NewFormat turns a set of them into an ingest.Format.
package syslog

import (
	"errors"
	"time"
)

// Message is one syslog record with its framing removed. Its byte slices
// alias the line given to Parse (or the Parser's buffer for JSON framings)
// and are valid until the next call.
type Message struct {
	// Time is when the record was written, in UTC.
	Time time.Time
	// Host is the sending host, "" when the framing has none (Dovecot's
	// own log file).
	Host string
	// App is the program name (the RFC 3164 tag without "[pid]", the RFC
	// 5424 APP-NAME, journald's SYSLOG_IDENTIFIER), "" when none was found.
	App string
	// PID is the process id where the framing gives one.
	PID string
	// Text is the message after the tag ("imap-login: Login: ..." for
	// Dovecot under syslog).
	Text []byte
	// Body is everything after the host: the tag and the message. It
	// equals Text when the framing carries the program separately
	// (journald, RFC 5424, JSON). Dovecot's own log file has no program
	// tag; its "imap-login: Info: ..." is Body.
	Body []byte
}

// ErrFraming marks a line that none of the framings recognise.
var ErrFraming = errors.New("not a syslog line")

// Options configure how timestamps are read.
type Options struct {
	// Location is the zone of timestamps that carry none: RFC 3164 and
	// Dovecot's default log_timestamp. nil means the local zone.
	Location *time.Location
	// Now is the clock that year inference compares with; nil means
	// time.Now. RFC 3164 timestamps have no year: the first one of a
	// stream gets the year that puts it at most a week in the future of
	// Now, and later ones follow it, moving to the next year when the
	// month jumps back (December to January).
	Now func() time.Time
	// Year, when set, is the year of the first year-less timestamp of
	// each stream instead of inferring it (replaying an archived log
	// deterministically).
	Year int
}

func (o *Options) location() *time.Location {
	if o.Location == nil {
		return time.Local
	}
	return o.Location
}

func (o *Options) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}
