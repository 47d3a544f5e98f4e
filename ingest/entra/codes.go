package entra

import (
	"strings"

	"github.com/atod-project/atod/ingest"
)

// Outcome maps an Entra ID sign-in error code (AADSTS, the errorCode of a
// sign-in's status) to a canonical outcome and failure reason. detail is the
// text the record adds (status.additionalDetails, failureReason, the
// authentication steps); it tells a denied MFA prompt from an unanswered
// one.
//
// interrupt is true for codes that ask the user for another step (MFA
// required, keep me signed in, register for MFA): such a sign-in has not
// ended, and its next record says how it did. Counting it as a failure
// would make every MFA sign-in look like a password guess, and counting it
// as a denied prompt would make it look like push bombing.
func Outcome(code int, detail string) (outcome, reason string, interrupt bool) {
	switch code {
	case 0:
		return ingest.OutcomeSuccess, "", false
	case 50072, 50074, 50076, 50079, 50097, 50125, 50140, 50199:
		return "", "", true
	}
	fail := func(r string) (string, string, bool) { return ingest.OutcomeFailure, r, false }
	switch code {
	case 50126, 50056: // invalid user name or password; invalid or null password
		return fail(ingest.ReasonBadPassword)
	case 50034, 50020: // user not found in the directory or tenant
		return fail(ingest.ReasonUnknownUser)
	case 50053, 50057: // locked (smart lockout, malicious IP); account disabled
		return fail(ingest.ReasonLocked)
	case 500121: // strong authentication failed: denied, or not answered
		if mfaUnanswered(detail) {
			return fail(ingest.ReasonMFATimeout)
		}
		return fail(ingest.ReasonMFADenied)
	}
	return fail(ingest.ReasonOther)
}

// mfaUnanswered reports whether an MFA failure's text says the prompt got no
// answer ("MFA denied; user did not respond to mobile app notification").
func mfaUnanswered(detail string) bool {
	d := strings.ToLower(detail)
	for _, s := range []string{"did not respond", "didn't respond", "no response", "timed out", "timeout"} {
		if strings.Contains(d, s) {
			return true
		}
	}
	return false
}

// protocol maps clientAppUsed to the canonical protocol. Modern clients
// ("Browser", "Mobile Apps and Desktop clients") and everything without a
// canonical name are "other", except the browser, which is "web".
func protocol(clientApp string) string {
	switch strings.ToLower(strings.TrimSpace(clientApp)) {
	case "":
		return ""
	case "browser":
		return "web"
	case "exchange activesync":
		return "activesync"
	case "imap4", "imap":
		return "imap"
	case "pop3", "pop":
		return "pop3"
	case "authenticated smtp", "smtp":
		return "smtp"
	case "exchange web services":
		return "ews"
	case "mapi over http", "mapi", "outlook anywhere (rpc over http)":
		return "mapi"
	}
	return "other"
}
