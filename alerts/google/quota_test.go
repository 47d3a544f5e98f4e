package google

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/atod-project/atod/detector"
)

// The Directory API signals its quotas with 403, not only 429: its
// "Limits and quotas" page lists 403 userRateLimitExceeded and 403
// quotaExceeded (and the global 403 rateLimitExceeded), each with the
// action "retry using exponential back-off". Such an answer is throttling,
// not a missing permission, and must be retried; a revocation refused for
// good because of a burst would leave the attacker signed in.
func TestSignOutRetriesRateLimit403(t *testing.T) {
	for _, reason := range []string{"userRateLimitExceeded", "rateLimitExceeded", "quotaExceeded"} {
		t.Run(reason, func(t *testing.T) {
			c, _, _ := setup(t, &fakeGoogle{api: func(w http.ResponseWriter) bool {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprintf(w, `{"error":{"code":403,"message":"Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user'","errors":[{"message":"Quota exceeded","domain":"usageLimits","reason":%q}],"status":"PERMISSION_DENIED"}}`, reason)
				return true
			}})
			retry, err := c.Revoke(context.Background(), user, detector.Alert{})
			if err == nil {
				t.Fatal("no error for a 403 answer")
			}
			if !retry {
				t.Errorf("403 %s is not retried: %v", reason, err)
			}
		})
	}
}

// A 403 that is a missing permission stays permanent.
func TestSignOutForbiddenStaysPermanent(t *testing.T) {
	c, _, _ := setup(t, &fakeGoogle{api: func(w http.ResponseWriter) bool {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"error":{"code":403,"message":"Not Authorized to access this resource/api","errors":[{"message":"Not Authorized to access this resource/api","domain":"global","reason":"forbidden"}],"status":"PERMISSION_DENIED"}}`)
		return true
	}})
	if retry, err := c.Revoke(context.Background(), user, detector.Alert{}); err == nil || retry {
		t.Fatalf("retry=%v err=%v; want a permanent error", retry, err)
	}
}
