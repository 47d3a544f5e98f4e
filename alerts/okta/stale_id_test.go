package okta

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/atod-project/atod/detector"
)

// The login → id map is not fixed: a user deleted and created again under
// the same login (a rehire, a re-provisioning by the HR system) gets a new
// id. After that, DELETE /api/v1/users/{old id}/sessions answers 404, and a
// client that keeps the id it remembered fails every later revocation of
// that login, for good, until atod restarts: the attacker's sessions on
// the new account are never ended. A 404 for a remembered id must send the
// client back to the lookup.
func TestRevokeLooksUpAgainWhenRememberedIDIsGone(t *testing.T) {
	const newID = "00unewuser0000000001"
	var recreated atomic.Bool
	f := &fakeOkta{api: func(w http.ResponseWriter, r *http.Request) bool {
		if !recreated.Load() {
			return false // the default answers: login → userID
		}
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/v1/users/"+login:
			fmt.Fprintf(w, `{"id":%q,"status":"ACTIVE","profile":{"login":%q}}`, newID, login)
			return true
		case r.Method == http.MethodDelete && r.URL.Path == "/api/v1/users/"+newID+"/sessions":
			w.WriteHeader(http.StatusNoContent)
			return true
		}
		// The old user is gone: its id is not found.
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"errorCode":"E0000007","errorSummary":"Not found: Resource not found: `+userID+` (User)","errorLink":"E0000007","errorId":"oae9","errorCauses":[]}`)
		return true
	}}
	c := newSSWS(t, f)
	if _, err := c.Revoke(context.Background(), login, detector.Alert{ID: "a1"}); err != nil {
		t.Fatal(err)
	}
	recreated.Store(true)
	if retry, err := c.Revoke(context.Background(), login, detector.Alert{ID: "a2"}); err != nil {
		// Even a retry would not help: the retry uses the same remembered id.
		if retry2, err2 := c.Revoke(context.Background(), login, detector.Alert{ID: "a2"}); err2 != nil {
			t.Fatalf("revocation after the user was re-created: retry=%v err=%v; again: retry=%v err=%v", retry, err, retry2, err2)
		}
	}
}

// A dry run's description names the two calls, the id as a placeholder.
func TestDescribeNamesBothCalls(t *testing.T) {
	c := newSSWS(t, &fakeOkta{})
	d := c.Describe(login)
	if !strings.Contains(d, "GET ") || !strings.Contains(d, "/api/v1/users/{id}/sessions") {
		t.Errorf("Describe = %s", d)
	}
}
