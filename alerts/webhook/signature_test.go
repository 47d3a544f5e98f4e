package webhook

import (
	"context"
	"net/http"
	"testing"
	"unicode/utf8"
)

// The v2 signature covers the delivery id and the event: a captured
// request resent under a new delivery id, or an alert relabelled as a
// revocation, does not verify.
func TestSignatureCoversDeliveryAndEvent(t *testing.T) {
	c, rec := newClient(t, func(w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted) })
	if _, err := c.Notify(context.Background(), alert); err != nil {
		t.Fatal(err)
	}
	r := rec.Requests()[0]
	if err := Verify([]byte(secretValue), r.Header, []byte(r.Body), fixed, 0); err != nil {
		t.Fatalf("genuine request: %v", err)
	}
	replayed := r.Header.Clone()
	replayed.Set(HeaderDelivery, "a2") // evades "drop repeats by X-Atod-Delivery"
	if err := Verify([]byte(secretValue), replayed, []byte(r.Body), fixed, 0); err == nil {
		t.Error("a request with a rewritten X-Atod-Delivery still verifies: receivers cannot rely on it to drop replays")
	}
	asRevoke := r.Header.Clone()
	asRevoke.Set(HeaderEvent, "revoke")
	if err := Verify([]byte(secretValue), asRevoke, []byte(r.Body), fixed, 0); err == nil {
		t.Error("an alert delivery re-labelled X-Atod-Event: revoke still verifies")
	}
}

// The secret's least length is 16 characters, as the docs say, not bytes.
func TestSecretLengthCountsCharacters(t *testing.T) {
	sec := "éééééééé"
	if n := utf8.RuneCountInString(sec); n != 8 {
		t.Fatal(n)
	}
	_, err := New(Config{URL: "https://soar.example.org/atod", SecretEnv: "S"},
		Options{LookupEnv: func(string) (string, bool) { return sec, true }})
	if err == nil {
		t.Error("a secret of 8 characters was accepted; the docs require 16 characters or more")
	}
}
