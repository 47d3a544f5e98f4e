package entra

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/atod-project/atod/ingest"
)

// signIn holds the fields atod reads from a sign-in, in Microsoft Graph's
// spelling. encoding/json matches keys ignoring case, so the same struct
// reads Log Analytics rows (UserPrincipalName, IPAddress, DeviceDetail);
// their dynamic columns come as objects or, in CSV exports, as strings
// holding JSON, which ingest.Nested accepts.
type signIn struct {
	ID                    string                      `json:"id"`
	CreatedDateTime       string                      `json:"createdDateTime"`
	UserPrincipalName     string                      `json:"userPrincipalName"`
	IPAddress             string                      `json:"ipAddress"`
	ClientAppUsed         string                      `json:"clientAppUsed"`
	UserAgent             string                      `json:"userAgent"`
	SessionID             string                      `json:"sessionId"`
	Status                ingest.Nested[status]       `json:"status"`
	DeviceDetail          ingest.Nested[deviceDetail] `json:"deviceDetail"`
	AuthenticationDetails ingest.Nested[[]authStep]   `json:"authenticationDetails"`
	AADTenantID           string                      `json:"AADTenantId"` // Log Analytics: the Entra tenant
	// Service principal sign-ins (Graph beta) have these instead of a user.
	ServicePrincipalID string   `json:"servicePrincipalId"`
	SignInEventTypes   []string `json:"signInEventTypes"`
}

type status struct {
	ErrorCode         ingest.Text `json:"errorCode"`
	FailureReason     string      `json:"failureReason"`
	AdditionalDetails string      `json:"additionalDetails"`
}

type deviceDetail struct {
	DeviceID string `json:"deviceId"`
}

type authStep struct {
	AuthenticationStepResultDetail string `json:"authenticationStepResultDetail"`
}

// record is any of the three shapes: a Graph signIn or Log Analytics row
// (the embedded signIn), or an Azure Monitor diagnostic record, whose
// sign-in is in Properties.
type record struct {
	signIn
	Time              string      `json:"time"`          // diagnostic: when Azure Monitor logged it
	TimeGenerated     string      `json:"TimeGenerated"` // Log Analytics
	Category          string      `json:"category"`
	Type              string      `json:"Type"`     // Log Analytics table name
	TenantID          string      `json:"tenantId"` // diagnostic; in Log Analytics, the workspace
	ResultType        ingest.Text `json:"resultType"`
	ResultDescription string      `json:"resultDescription"`
	CallerIPAddress   string      `json:"callerIpAddress"`
	Properties        *signIn     `json:"properties"`
}

// userSignIn lists the categories (and Log Analytics tables) of user
// sign-ins; service principal and managed identity sign-ins, audit logs
// and the rest of what diagnostic settings stream are skipped.
func userSignIn(category string) bool {
	switch strings.ToLower(category) {
	case "", "signinlogs", "noninteractiveusersigninlogs", "aadnoninteractiveusersigninlogs", "adfssigninlogs":
		return true
	}
	return false
}

// decodeRecord decodes one sign-in record.
func decodeRecord(rec []byte, emit func(ingest.Event)) error {
	var r record
	if err := json.Unmarshal(rec, &r); err != nil {
		return fmt.Errorf("entra: %w", err)
	}
	category := r.Category
	if category == "" {
		category = r.Type
	}
	if !userSignIn(category) {
		return fmt.Errorf("%w: entra category %q is not a user sign-in", ingest.ErrSkip, category)
	}
	in, tenant := &r.signIn, r.AADTenantID
	if r.Properties != nil {
		in, tenant = r.Properties, r.TenantID
	}
	f := ingest.Fields{
		User:      in.UserPrincipalName,
		IP:        in.IPAddress,
		Type:      ingest.TypeLogin,
		SessionID: in.SessionID,
		Protocol:  protocol(in.ClientAppUsed),
		UserAgent: in.UserAgent,
		DeviceID:  in.DeviceDetail.V.DeviceID,
		ID:        in.ID,
		Tenant:    tenant,
		Source:    Name,
	}
	if f.User == "" && in.ServicePrincipalID != "" {
		return fmt.Errorf("%w: entra sign-in %s is a service principal's", ingest.ErrSkip, in.ID)
	}
	for _, t := range in.SignInEventTypes {
		if t == "servicePrincipal" || t == "managedIdentity" {
			return fmt.Errorf("%w: entra sign-in %s is a %s sign-in", ingest.ErrSkip, in.ID, t)
		}
	}
	if f.User == "" {
		return fmt.Errorf("entra: sign-in %s: field %q is required", in.ID, "userPrincipalName")
	}
	if f.IP == "" {
		f.IP = r.CallerIPAddress
	}
	if f.IP == "" {
		return fmt.Errorf("entra: sign-in %s: field %q is required", in.ID, "ipAddress")
	}
	when, field := in.CreatedDateTime, "createdDateTime"
	switch {
	case when == "" && r.Time != "":
		when, field = r.Time, "time"
	case when == "":
		when, field = r.TimeGenerated, "TimeGenerated"
	}
	t, err := ingest.ParseUTCTime(when)
	if err != nil {
		return fmt.Errorf("entra: sign-in %s: field %q: %w", in.ID, field, err)
	}
	f.Time = t
	code, detail, err := errorCode(&r, in)
	if err != nil {
		return fmt.Errorf("entra: sign-in %s: %w", in.ID, err)
	}
	var interrupt bool
	f.Outcome, f.Reason, interrupt = Outcome(code, detail)
	if interrupt {
		return fmt.Errorf("%w: entra error code %d asks for another step (an interrupt); the step's own record has the outcome", ingest.ErrSkip, code)
	}
	e, err := f.Event()
	if err != nil {
		return fmt.Errorf("entra: sign-in %s: %w", in.ID, err)
	}
	emit(e)
	return nil
}

// errorCode finds the sign-in's error code (status.errorCode, or the
// record's resultType) and the text that explains it.
func errorCode(r *record, in *signIn) (int, string, error) {
	raw, field := string(in.Status.V.ErrorCode), "status.errorCode"
	if raw == "" {
		raw, field = string(r.ResultType), "resultType"
	}
	if raw == "" {
		return 0, "", fmt.Errorf("field %q or %q is required", "status.errorCode", "resultType")
	}
	code, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil || code < 0 {
		return 0, "", fmt.Errorf("field %q: %q is not an error code", field, raw)
	}
	details := []string{in.Status.V.AdditionalDetails, in.Status.V.FailureReason, r.ResultDescription}
	for _, s := range in.AuthenticationDetails.V {
		details = append(details, s.AuthenticationStepResultDetail)
	}
	return code, strings.Join(details, "; "), nil
}
