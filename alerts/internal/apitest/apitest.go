// Package apitest records the requests an integration sends to an
// httptest server, so that provider tests can check each one exactly:
// method, path, query, headers and body.
package apitest

import (
	"io"
	"net/http"
	"net/url"
	"sync"
)

// Request is one recorded request.
type Request struct {
	Method string
	Path   string // escaped, as sent
	Query  url.Values
	Header http.Header
	Body   string
}

// Recorder wraps a handler and keeps every request it saw.
type Recorder struct {
	mu   sync.Mutex
	reqs []Request
}

// Wrap returns h recording into r; the body is read first and handed on.
func (r *Recorder) Wrap(h func(w http.ResponseWriter, req *http.Request, body string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		rec := Request{Method: req.Method, Path: req.URL.EscapedPath(), Query: req.URL.Query(),
			Header: req.Header.Clone(), Body: string(b)}
		r.mu.Lock()
		r.reqs = append(r.reqs, rec)
		r.mu.Unlock()
		h(w, req, string(b))
	})
}

// Requests returns a copy of what was recorded so far.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}

// Reset forgets the requests.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.reqs = nil
	r.mu.Unlock()
}
