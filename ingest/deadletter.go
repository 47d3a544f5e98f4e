package ingest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"unicode/utf8"

	"go.uber.org/zap"
)

// NewDeadLetterWriter returns a sink that writes each dead letter to w as
// one JSON object per line:
//
//	{"source":"a.jsonl","line":7,"reason":"...","raw":"..."}
//
// Raw that is not valid UTF-8 is written as "raw_base64" instead of "raw",
// so that the original bytes survive exactly (a JSON string would replace
// them with U+FFFD). Each record is written with a single Write; the sink is
// safe for concurrent use.
func NewDeadLetterWriter(w io.Writer) DeadLetterSink {
	return &deadLetterWriter{w: w}
}

type deadLetterWriter struct {
	mu  sync.Mutex
	w   io.Writer
	buf bytes.Buffer
}

type deadLetterRecord struct {
	Source    string  `json:"source"`
	Line      int64   `json:"line"`
	Reason    string  `json:"reason"`
	Raw       *string `json:"raw,omitempty"`
	RawBase64 string  `json:"raw_base64,omitempty"`
}

func (s *deadLetterWriter) DeadLetter(_ context.Context, d DeadLetter) error {
	rec := deadLetterRecord{Source: d.Source, Line: d.Line, Reason: d.Reason}
	if utf8.Valid(d.Raw) {
		raw := string(d.Raw)
		rec.Raw = &raw
	} else {
		rec.RawBase64 = base64.StdEncoding.EncodeToString(d.Raw)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Reset()
	enc := json.NewEncoder(&s.buf)
	enc.SetEscapeHTML(false) // raw lines stay readable: "<" rather than "\u003c"
	if err := enc.Encode(rec); err != nil {
		return fmt.Errorf("encoding dead letter: %w", err)
	}
	if _, err := s.w.Write(s.buf.Bytes()); err != nil {
		return fmt.Errorf("writing dead letter: %w", err)
	}
	return nil
}

// deadLetterLogPrefix bounds how much of a raw line reaches the log: lines
// may be huge, and logs are read by more people than dead-letter files.
const deadLetterLogPrefix = 128

// DeadLetterLogger returns a sink that logs each dead letter as a warning
// with its source, line number, reason and at most the first 128 bytes of
// the line. It is the sink when no dead-letter file is configured, so that a
// refused line is at least visible. It never fails.
func DeadLetterLogger(log *zap.Logger) DeadLetterSink {
	if log == nil {
		log = zap.NewNop()
	}
	return deadLetterLogger{log: log}
}

type deadLetterLogger struct{ log *zap.Logger }

func (l deadLetterLogger) DeadLetter(_ context.Context, d DeadLetter) error {
	prefix := truncateUTF8(d.Raw, deadLetterLogPrefix)
	l.log.Warn("dead letter",
		zap.String("source", d.Source),
		zap.Int64("line", d.Line),
		zap.String("reason", d.Reason),
		zap.ByteString("raw_prefix", prefix),
		zap.Bool("raw_truncated", len(prefix) < len(d.Raw)),
	)
	return nil
}
