package okta

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/atod-project/atod/detector"
)

// An account named "me" (or any name Okta resolves to another user, such
// as another user's id) must not end the sessions of whoever Okta returns:
// GET /api/v1/users/me answers with the owner of the API token, an Okta
// administrator. The login Okta returns must be the one atod was asked to
// revoke.
func TestRevokesOnlyTheNamedLogin(t *testing.T) {
	const adminID, adminLogin = "00uADMIN0000000000001", "okta.admin@example.org"
	var deleted atomic.Int32
	f := &fakeOkta{api: func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/v1/users/me":
			fmt.Fprintf(w, `{"id":%q,"status":"ACTIVE","profile":{"login":%q}}`, adminID, adminLogin)
			return true
		case r.Method == http.MethodDelete && r.URL.Path == "/api/v1/users/"+adminID+"/sessions":
			deleted.Add(1)
			w.WriteHeader(http.StatusNoContent)
			return true
		}
		return false
	}}
	c := newSSWS(t, f)
	_, err := c.Revoke(context.Background(), "me", detector.Alert{ID: "a1", User: "me"})
	if n := deleted.Load(); n != 0 {
		t.Errorf("revoking account %q ended the sessions of %s (the API token's owner) %d time(s); err=%v", "me", adminLogin, n, err)
	}
	if err == nil {
		t.Errorf("Revoke(%q) succeeded; want an error saying Okta returned another login (%s)", "me", adminLogin)
	}
}

// Okta's path also takes a login's short name: the same account when
// atod's name has no domain, never across domains.
func TestSameLogin(t *testing.T) {
	for _, c := range []struct {
		login, user string
		want        bool
	}{
		{"Anna.Koch@example.org", "anna.koch@example.org", true},
		{"anna.koch@example.org", "anna.koch", true},
		{"anna.koch@example.org", "anna.koch@other.org", false},
		{"okta.admin@example.org", "me", false},
		{"anna.koch@example.org", "00ub0oNGTSWTBKOLGLNR", false},
		{"anna.koch", "anna.koch@example.org", false},
	} {
		if got := sameLogin(c.login, c.user); got != c.want {
			t.Errorf("sameLogin(%q, %q) = %v, want %v", c.login, c.user, got, c.want)
		}
	}
}
