package m365

import (
	"errors"
	"testing"

	"github.com/atod-project/atod/ingest"
)

// decodeOne decodes one Management Activity API record.
func decodeOne(t *testing.T, rec string) ([]ingest.Event, error) {
	t.Helper()
	var out []ingest.Event
	err := decoder{}.Decode([]byte(rec), func(e ingest.Event) { out = append(out, e) })
	return out, err
}

// docs/formats.md: without an error number, LogonError "...Interrupt" is
// skipped, like the interrupt codes of the Entra table (50125 is
// PasswordResetRegistrationRequiredInterrupt, 50097 DeviceAuthenticationRequired).
func TestLogonErrorInterruptsAreSkipped(t *testing.T) {
	for _, name := range []string{
		"PasswordResetRegistrationRequiredInterrupt",
		"UserStrongAuthClientAuthNRequiredInterrupt", // listed in the code: control
	} {
		rec := `{"CreationTime":"2026-03-02T08:31:07","Id":"r1","Operation":"UserLoginFailed","OrganizationId":"t1",` +
			`"RecordType":15,"ResultStatus":"Success","Workload":"AzureActiveDirectory","ClientIP":"203.0.113.5",` +
			`"UserId":"anna@example.org","LogonError":"` + name + `"}`
		events, err := decodeOne(t, rec)
		if !errors.Is(err, ingest.ErrSkip) || len(events) != 0 {
			t.Errorf("LogonError %s: events %+v, err %v; want skipped as an interrupt", name, events, err)
		}
	}
}

// A second factor that failed after a correct password (Entra 500121)
// is an MFA failure, which the MFA-fatigue rule counts, not "other".
func TestLogonErrorStrongAuthFailureIsMFA(t *testing.T) {
	if reason, interrupt := logonError("AuthenticationFailedDuringStrongAuthRequest"); reason != ingest.ReasonMFADenied || interrupt {
		t.Errorf("logonError = %q, %v; want %q", reason, interrupt, ingest.ReasonMFADenied)
	}
}
