package syslog

import (
	"fmt"
	"time"

	"github.com/atod-project/atod/ingest"
)

// Program understands the messages of one program (Dovecot, Postfix)
// once the framing is gone. A Program serves one stream and may keep
// state across its messages, such as the lines of one connection.
type Program interface {
	// Match reports whether m comes from this program. It must be cheap:
	// it runs for every line of a mixed log.
	Match(m *Message) bool
	// Decode turns a matching message into events, as ingest.Decoder's
	// Decode does. It must not keep m's slices.
	Decode(m *Message, emit func(ingest.Event)) error
	// Flush emits what the program still holds at the end of the stream.
	Flush(emit func(ingest.Event))
}

// NewFormat returns an ingest.Format that reads syslog-framed lines and
// hands each to the first of programs that matches it; lines that none
// matches are skipped (ErrSkip), as are lines of the programs that carry
// no sign-in. Its Sniff accepts the lines of its programs. Each stream
// gets a Parser of its own with opt and a fresh instance of every program.
func NewFormat(name, description string, opt Options, programs ...func() Program) ingest.Format {
	return newFormat(name, description, opt, false, programs)
}

// NewCatchAll is NewFormat whose Sniff accepts every syslog-framed line,
// of whatever program: in auto-detection it goes after the formats of
// specific programs and keeps the rest of a mixed system log (cron,
// kernel, sshd) from being dead-lettered as unreadable; those lines are
// skipped and counted.
func NewCatchAll(name, description string, opt Options, programs ...func() Program) ingest.Format {
	return newFormat(name, description, opt, true, programs)
}

func newFormat(name, description string, opt Options, anyProgram bool, programs []func() Program) ingest.Format {
	return ingest.Format{
		Name:        name,
		Description: description,
		Sniff: func(rec []byte) bool {
			m, err := NewParser(opt).Parse(rec)
			if err != nil {
				return false
			}
			if anyProgram {
				return true
			}
			for _, newProgram := range programs {
				if newProgram().Match(&m) {
					return true
				}
			}
			return false
		},
		New: func() ingest.Decoder {
			d := &decoder{parser: NewParser(opt)}
			d.emitInOrder = func(e ingest.Event) { d.emit(d.inOrder(e)) }
			for _, newProgram := range programs {
				d.programs = append(d.programs, newProgram())
			}
			return d
		},
	}
}

var _ ingest.Decoder = (*decoder)(nil)

type decoder struct {
	parser   *Parser
	programs []Program

	// Tie-breaking within a whole second (see inOrder).
	second time.Time
	ties   int

	// emit is the caller's emit during Decode and Flush; emitInOrder,
	// made once, hands events to it through inOrder.
	emit        func(ingest.Event)
	emitInOrder func(ingest.Event)
}

func (d *decoder) Decode(rec []byte, emit func(ingest.Event)) error {
	m, err := d.parser.Parse(rec)
	if err != nil {
		return err
	}
	for _, p := range d.programs {
		if p.Match(&m) {
			d.emit = emit
			err := p.Decode(&m, d.emitInOrder)
			d.emit = nil
			return err
		}
	}
	return skipOther
}

func (d *decoder) Flush(emit func(ingest.Event)) {
	d.emit = emit
	for _, p := range d.programs {
		p.Flush(d.emitInOrder)
	}
	d.emit = nil
}

// inOrder keeps the log's order among the events of one whole second.
// Classic syslog and Dovecot's default log_timestamp tell seconds only,
// and the detector orders simultaneous events by id, which would put an
// attacker's success before the guesses of the same second that led to
// it. The n-th event of a second therefore gets n nanoseconds added:
// the same input still gives the same times.
func (d *decoder) inOrder(e ingest.Event) ingest.Event {
	if e.Time.Nanosecond() != 0 {
		return e
	}
	if e.Time.Equal(d.second) {
		d.ties++
		e.Time = e.Time.Add(time.Duration(d.ties))
		return e
	}
	d.second, d.ties = e.Time, 0
	return e
}

// skipOther is returned for every line of another program; one value, so
// that skipping costs no allocation.
var skipOther = fmt.Errorf("%w: message of another program", ingest.ErrSkip)
