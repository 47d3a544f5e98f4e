package okta

import (
	"errors"
	"fmt"
	"strings"

	"github.com/atod-project/atod/ingest"
)

// kind is what an event type says about a sign-in.
type kind int

const (
	skip   kind = iota
	signIn      // a sign-in attempt: its outcome is the login's
	mfa         // a second factor: only a failure is a login event
	denied      // a denied push: always a failed login
	policy      // a sign-on policy decision: only DENY is a failed login
)

func kindOf(eventType string) kind {
	switch eventType {
	case "user.session.start", "user.authentication.sso", "user.authentication.authenticate":
		return signIn
	case "user.authentication.auth_via_mfa", "user.authentication.verify":
		return mfa
	case "user.mfa.okta_verify.deny_push":
		return denied
	case "policy.evaluate_sign_on":
		return policy
	}
	if strings.HasPrefix(eventType, "user.authentication.auth_via_") {
		return signIn // auth_via_IDP, auth_via_social, auth_via_radius, ...
	}
	return skip
}

// fields maps an event; events that are no sign-in outcome wrap ErrSkip.
func (ev *logEvent) fields() (ingest.Fields, error) {
	k := kindOf(ev.EventType)
	if k == skip {
		return ingest.Fields{}, fmt.Errorf("%w: okta event type %s", ingest.ErrSkip, ev.EventType)
	}
	if ev.Actor.Type != "" && !strings.EqualFold(ev.Actor.Type, "User") {
		return ingest.Fields{}, fmt.Errorf("%w: okta actor of type %s", ingest.ErrSkip, ev.Actor.Type)
	}
	result := strings.ToUpper(ev.Outcome.Result)
	f := ingest.Fields{Type: ingest.TypeLogin, Outcome: ingest.OutcomeFailure}
	switch {
	case k == signIn && result == "SUCCESS":
		f.Outcome = ingest.OutcomeSuccess
	case k == signIn:
		f.Reason = signInReason(ev.Outcome.Reason)
	case k == mfa && result == "FAILURE":
		f.Reason = mfaReason(ev.Outcome.Reason)
		if strings.EqualFold(ev.AuthenticationContext.CredentialType, "PASSWORD") {
			f.Reason = ingest.ReasonBadPassword
		}
	case k == denied:
		f.Reason = ingest.ReasonMFADenied
	case k == policy && result == "DENY":
		f.Reason = ingest.ReasonOther
	default:
		return ingest.Fields{}, fmt.Errorf("%w: okta %s with outcome %s", ingest.ErrSkip, ev.EventType, ev.Outcome.Result)
	}
	f.User = ev.Actor.AlternateID
	f.IP = ev.Client.IPAddress
	if f.IP == "" && len(ev.Request.IPChain) > 0 {
		f.IP = ev.Request.IPChain[0].IP
	}
	f.UserAgent = ev.Client.UserAgent.RawUserAgent
	if s := ev.AuthenticationContext.ExternalSessionID; !strings.EqualFold(s, "unknown") {
		f.SessionID = s
	}
	if ev.Device != nil {
		f.DeviceID = ev.Device.ID
	}
	f.ID, f.Source = ev.UUID, Name
	if f.User == "" || strings.EqualFold(f.User, "unknown") {
		return ingest.Fields{}, errors.New(`field "actor.alternateId" is required`)
	}
	if f.IP == "" {
		return ingest.Fields{}, errors.New(`field "client.ipAddress" is required`)
	}
	t, err := ingest.ParseTime(ev.Published)
	if err != nil {
		return ingest.Fields{}, fmt.Errorf("field %q: %w", "published", err)
	}
	f.Time = t
	return f, nil
}

// signInReason maps outcome.reason of a failed sign-in.
func signInReason(reason string) string {
	r := strings.ToUpper(reason)
	switch {
	case strings.Contains(r, "INVALID_CREDENTIALS"), strings.Contains(r, "VERIFICATION_ERROR"):
		return ingest.ReasonBadPassword
	case strings.Contains(r, "LOCKED_OUT"):
		return ingest.ReasonLocked
	case strings.Contains(r, "UNKNOWN_USER"), strings.Contains(r, "USER NOT FOUND"):
		return ingest.ReasonUnknownUser
	}
	return ingest.ReasonOther
}

// mfaReason maps outcome.reason of a failed second factor.
func mfaReason(reason string) string {
	r := strings.ToUpper(reason)
	if strings.Contains(r, "TIMEOUT") || strings.Contains(r, "TIMED OUT") || strings.Contains(r, "EXPIRED") {
		return ingest.ReasonMFATimeout
	}
	return ingest.ReasonMFADenied
}
