package google

import (
	"strings"

	"github.com/atod-project/atod/ingest"
)

// fields maps one event of the login or user_accounts application; ok is
// false for events atod does not use (logout, 2-step verification and
// password changes, Google's own suspicious-login warnings, which come with
// the login_success or login_failure they are about).
func fields(e *event) (f ingest.Fields, ok bool) {
	switch e.Name {
	case "login_success":
		return ingest.Fields{Type: ingest.TypeLogin, Outcome: ingest.OutcomeSuccess}, true
	case "login_failure":
		return ingest.Fields{Type: ingest.TypeLogin, Outcome: ingest.OutcomeFailure, Reason: failureReason(e.param("login_failure_type"))}, true
	case "login_challenge", "login_verification":
		// A passed challenge is followed by its login_success; a failed
		// one is the failure: of the password, or of a second factor.
		if !strings.HasPrefix(strings.ToLower(e.param("login_challenge_status")), "challenge failed") {
			return ingest.Fields{}, false
		}
		reason := ingest.ReasonMFADenied
		if strings.EqualFold(e.param("login_challenge_method"), "password") {
			reason = ingest.ReasonBadPassword
		}
		return ingest.Fields{Type: ingest.TypeLogin, Outcome: ingest.OutcomeFailure, Reason: reason}, true
	case "email_forwarding_out_of_domain":
		to := strings.TrimSpace(e.param("email_forwarding_destination_address"))
		if to == "" {
			return ingest.Fields{}, false
		}
		return ingest.Fields{Type: ingest.TypeInboxRule, Rule: &ingest.InboxRule{Name: e.Name, ForwardTo: []string{to}}}, true
	}
	return ingest.Fields{}, false
}

// failureReason maps login_failure_type.
func failureReason(t string) string {
	switch t {
	case "login_failure_invalid_password":
		return ingest.ReasonBadPassword
	case "login_failure_invalid_second_factor":
		return ingest.ReasonMFADenied
	case "login_failure_missing_second_factor":
		return ingest.ReasonMFATimeout
	case "login_failure_account_disabled":
		return ingest.ReasonLocked
	}
	return ingest.ReasonOther
}
