package httpx

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A provider's error code and message go into the error, which reaches
// log lines: a megabyte of either is cut to a readable start.
func TestSendClipsTheProvidersWords(t *testing.T) {
	huge := strings.Repeat("é", 200_000) // two of these fit in MaxBody
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"code": "E" + huge, "message": huge})
	}))
	defer srv.Close()
	parse := func(body []byte) (string, string, bool) {
		var e struct{ Code, Message string }
		err := json.Unmarshal(body, &e)
		return e.Code, e.Message, err == nil
	}
	req, err := http.NewRequest(http.MethodPost, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, retry, err := Send(srv.Client(), req, "revoking", parse)
	se, ok := err.(*StatusError)
	if !ok || retry || se.Status != http.StatusBadRequest {
		t.Fatalf("Send: retry %v, %v; want a StatusError of 400 not to retry", retry, err)
	}
	if !strings.HasPrefix(se.Code, "Eé") || !strings.HasPrefix(se.Message, "éé") {
		t.Errorf("code %.20q, message %.20q: want the starts of the answer's", se.Code, se.Message)
	}
	if n := len(se.Error()); n > 1000 {
		t.Errorf("the error is %d bytes long", n)
	}
}
