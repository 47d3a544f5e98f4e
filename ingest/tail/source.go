package tail

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/atod-project/atod/ingest"
)

// Source follows a log file and decodes it with a Format: the live input
// of a small installation ("atod run" without Kafka). Events go to the
// handler in file order; a line's position is saved only once the handler
// has accepted all of its events.
type Source struct {
	Config Config
	Format ingest.Format
}

// Run follows the file until ctx is cancelled (then it returns nil and
// the counts) or the handler or dead-letter sink fail. Unusable lines are
// dead-lettered with Source set to the path and Line to the line's number
// in this run; lines the format skips are counted. What the decoder still
// holds when Run returns is flushed to h.
func (s *Source) Run(ctx context.Context, h ingest.Handler, dlq ingest.DeadLetterSink) (ingest.Stats, error) {
	if s.Format.New == nil {
		return ingest.Stats{}, errors.New("tail: no format")
	}
	if dlq == nil {
		log := s.Config.Log
		if log == nil {
			log = zap.NewNop()
		}
		dlq = ingest.DeadLetterLogger(log)
	}
	dec := s.Format.New()
	st := ingest.Stats{Files: 1}
	var handleErr, futureErr error
	lineEvents := 0 // events of the current line handed on
	// A line's events go on together. Once its first went on, a stop waits
	// for the rest (up to lineGrace), so that the line is saved as read:
	// read again at the next start, its first events would go on twice.
	finish, endFinish := context.WithCancel(context.WithoutCancel(ctx))
	defer endFinish()
	grace := lineGrace
	defer context.AfterFunc(ctx, func() { time.AfterFunc(grace, endFinish) })()
	emit := func(e ingest.Event) {
		if handleErr != nil {
			return
		}
		if err := ingest.TooFarAhead(e.Time, time.Now(), s.Config.MaxFuture); err != nil {
			// The first such event of the line decides its dead letter: a
			// later event in time must not clear it, which dropped the
			// event without a word.
			if futureErr == nil {
				futureErr = err
			}
			return
		}
		hctx := ctx
		if lineEvents > 0 {
			hctx = finish
		}
		if err := h.Handle(hctx, e); err != nil {
			handleErr = err
			return
		}
		st.Events++
		lineEvents++
	}
	err := Follow(ctx, s.Config, func(line []byte) error {
		st.Lines++
		st.Bytes += int64(len(line)) + 1
		if isBlank(line) {
			st.Blank++
			return nil
		}
		futureErr, lineEvents = nil, 0
		derr := dec.Decode(line, emit)
		if handleErr != nil {
			return fmt.Errorf("%s:%d: handling event: %w", s.Config.Path, st.Lines, handleErr)
		}
		if futureErr != nil && derr == nil {
			derr = futureErr
		}
		dctx := ctx // dead letters of a line some of whose events went on finish with it
		if lineEvents > 0 {
			dctx = finish
		}
		var parts ingest.PartErrors
		switch {
		case derr == nil:
		case errors.Is(derr, ingest.ErrSkip):
			st.Skipped++
		case errors.As(derr, &parts):
			for _, p := range parts {
				if err := s.deadLetter(dctx, dlq, st.Lines, p.Raw, p.Err); err != nil {
					return err
				}
				st.DeadLetters++
			}
		default:
			if err := s.deadLetter(dctx, dlq, st.Lines, line, derr); err != nil {
				return err
			}
			st.DeadLetters++
		}
		return nil
	})
	dec.Flush(func(e ingest.Event) {
		if handleErr == nil {
			if handleErr = h.Handle(context.WithoutCancel(ctx), e); handleErr == nil {
				st.Events++
			}
		}
	})
	if err == nil {
		err = handleErr // from Flush
	}
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) && lineEvents == 0 {
		// A stop while a line's first event was handled (state loading
		// from Redis, say): the line is not counted as read and comes
		// again at the next start, whole; the stop itself is no failure.
		// Once some of its events went on, the rest had lineGrace to go
		// on too; if they did not, reading it again hands the first ones
		// on twice: that stays an error.
		err = nil
	}
	return st, err
}

// lineGrace is how long a stop waits for the rest of a line whose first
// events went on: a batch of sign-ins in one line, each handled in
// microseconds, or a Redis round trip or two.
var lineGrace = 5 * time.Second

func (s *Source) deadLetter(ctx context.Context, dlq ingest.DeadLetterSink, line int64, raw []byte, reason error) error {
	d := ingest.DeadLetter{Source: s.Config.Path, Line: line, Reason: reason.Error(), Raw: append([]byte(nil), raw...)}
	if err := dlq.DeadLetter(ctx, d); err != nil {
		return fmt.Errorf("%s:%d: writing dead letter: %w", s.Config.Path, line, err)
	}
	return nil
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
