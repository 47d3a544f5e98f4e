package alerts

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/atod-project/atod/detector"
)

// JSONLines writes each alert as one JSON object on a line, the format of
// DESIGN.md. Output is buffered; call Flush before the writer is closed.
// The encoding is deterministic, so a replay writes byte-identical lines.
type JSONLines struct {
	mu  sync.Mutex
	w   *bufio.Writer
	buf bytes.Buffer
	enc *json.Encoder
}

var _ Notifier = (*JSONLines)(nil)

// NewJSONLines returns a sink writing to w.
func NewJSONLines(w io.Writer) *JSONLines {
	j := &JSONLines{w: bufio.NewWriterSize(w, 64<<10)}
	j.enc = json.NewEncoder(&j.buf)
	j.enc.SetEscapeHTML(false) // keep <, > and & readable in reasons
	return j
}

// Notify implements Notifier. A write error is not retried: the writer is
// a local file or pipe, and retrying would interleave partial lines.
func (j *JSONLines) Notify(_ context.Context, a detector.Alert) (bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.buf.Reset()
	if err := j.enc.Encode(&a); err != nil {
		return false, fmt.Errorf("encoding alert %s: %w", a.ID, err)
	}
	if _, err := j.w.Write(j.buf.Bytes()); err != nil {
		return false, fmt.Errorf("writing alert %s: %w", a.ID, err)
	}
	return false, nil
}

// Flush writes out buffered alerts.
func (j *JSONLines) Flush() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.w.Flush()
}
