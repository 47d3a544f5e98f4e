// Package apitest records the requests an integration sends to an
// httptest server, so that provider tests can check each one exactly:
// method, path, query, headers and body.
package apitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
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

// JSONValues returns the string and number values (not the keys) of a
// JSON document, decoded, so that a fuzz test can check that what a
// parser reports came from the answer. It fails on what is not JSON.
func JSONValues(doc []byte) (strs, nums []string, err error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var inObject []bool // per open container: an object, whose next string is a key
	key := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return strs, nums, nil
		}
		if err != nil {
			return nil, nil, err
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				inObject = append(inObject, v == '{')
				key = v == '{'
				continue
			default:
				inObject = inObject[:len(inObject)-1]
			}
		case string:
			if key {
				key = false
				continue
			}
			strs = append(strs, v)
		case json.Number:
			nums = append(nums, string(v))
		}
		key = len(inObject) > 0 && inObject[len(inObject)-1]
	}
}

// CheckErrorAnswer fails t unless an error parser's reading of body
// (code, msg, ok) holds only what the answer says: nothing when not ok;
// when ok, body is JSON, code (or, with messageRequired, msg) is not
// empty, and code and msg, where not empty, are string values of the
// answer, not keys or text made up along the way. The fuzz tests of the
// providers' error answers share it.
func CheckErrorAnswer(t testing.TB, body []byte, code, msg string, ok, messageRequired bool) {
	t.Helper()
	if !ok {
		if code != "" || msg != "" {
			t.Fatalf("%q: not ok but %q %q", body, code, msg)
		}
		return
	}
	required := code
	if messageRequired {
		required = msg
	}
	if !json.Valid(body) || required == "" {
		t.Fatalf("%q: ok with code %q and message %q", body, code, msg)
	}
	strs, _, err := JSONValues(body)
	if err != nil || (code != "" && !slices.Contains(strs, code)) || (msg != "" && !slices.Contains(strs, msg)) {
		t.Fatalf("%q: %q %q are not values of the answer %q (%v)", body, code, msg, strs, err)
	}
}
