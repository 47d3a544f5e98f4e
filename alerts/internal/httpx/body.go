package httpx

import (
	"bytes"
	"io"
)

// Body returns a request body for b; nil gives no body at all (rather
// than an empty one), so that GET and DELETE carry no Content-Length.
func Body(b []byte) io.Reader {
	if b == nil {
		return nil
	}
	return bytes.NewReader(b)
}
