package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/atod-project/atod/detector"
)

// LineSink writes each alert as one JSON line straight to w (stdout, a
// RotatingFile), unbuffered: in live mode an alert must reach the SOC's
// file when it is decided, not when a buffer fills. JSONLines is its
// buffered sibling for replay.
type LineSink struct {
	mu sync.Mutex
	w  io.Writer
}

var _ Notifier = (*LineSink)(nil)

// NewLineSink returns a sink writing to w.
func NewLineSink(w io.Writer) *LineSink { return &LineSink{w: w} }

// Notify implements Notifier. Write errors are not retried, as in
// JSONLines: a retry could leave a partial line.
func (s *LineSink) Notify(_ context.Context, a detector.Alert) (bool, error) {
	b, err := marshalAlert(a)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write(b); err != nil {
		return false, fmt.Errorf("writing alert %s: %w", a.ID, err)
	}
	return false, nil
}

// marshalAlert encodes a as one line the way JSONLines does (no HTML
// escaping, so reasons stay readable).
func marshalAlert(a detector.Alert) ([]byte, error) {
	var buf lineBuffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&a); err != nil {
		return nil, fmt.Errorf("encoding alert %s: %w", a.ID, err)
	}
	return buf.b, nil
}

type lineBuffer struct{ b []byte }

func (l *lineBuffer) Write(p []byte) (int, error) { l.b = append(l.b, p...); return len(p), nil }
