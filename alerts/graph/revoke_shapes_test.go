package graph

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// 204 No Content is a success: the request was carried out and the
// answer has no body. revokeSignInSessions answers 200 {"value":true} in
// v1.0, but a 204 (a proxy in front of Graph, another API version) means
// the same; reading it as "Graph answered without value true" audits a
// revocation that happened as failed, for good.
func TestRevokeAccepts204(t *testing.T) {
	f := &fakeEntra{graph: func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/revokeSignInSessions") {
			w.WriteHeader(http.StatusNoContent)
			return true
		}
		return false
	}}
	srv := httptest.NewServer(f.handler())
	defer srv.Close()
	c := newClient(t, srv.URL, func(*Config) {})
	if retry, err := c.Revoke(context.Background(), user, alert()); err != nil {
		t.Fatalf("204 No Content read as a failure: retry=%v err=%v", retry, err)
	}
}

// Graph's "Get user" documents that a userPrincipalName beginning with $
// cannot follow /users/ as a path segment (Graph reads /users/$x as a
// system query segment and answers 400): "remove the slash after /users
// and enclose the userPrincipalName in parentheses and single quotes",
// /users('$AdeleVance@contoso.com').
func TestRevokeUPNStartingWithDollar(t *testing.T) {
	const dollarUser = "$adele.vance@example.org"
	f := &fakeEntra{graph: func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasPrefix(r.URL.Path, "/v1.0/users/$") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":{"code":"BadRequest","message":"The request URI is not valid. Since the segment 'users' refers to a collection, this must be the last segment in the request URI or it must be followed by an function or action that can be bound to it otherwise all intermediate segments must refer to a single resource."}}`))
			return true
		}
		return false
	}}
	srv := httptest.NewServer(f.handler())
	defer srv.Close()
	c := newClient(t, srv.URL, func(*Config) {})
	if retry, err := c.Revoke(context.Background(), dollarUser, alert()); err != nil {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	reqs := f.Requests()
	last := reqs[len(reqs)-1]
	if want := "/v1.0/users('" + dollarUser + "')/revokeSignInSessions"; !strings.EqualFold(strings.ReplaceAll(last.Path, "%24", "$"), want) {
		t.Errorf("path %s, want %s", last.Path, want)
	}
}
