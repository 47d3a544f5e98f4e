package m365

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/entra"
)

// record holds the fields atod reads from an audit record: the common
// schema, the Azure AD STS logon, Exchange mailbox and Exchange admin
// schemas, and the columns OfficeActivity renames (OfficeId,
// Client_IPAddress, TimeGenerated). OfficeActivity gives the nested lists as
// strings holding JSON, which ingest.Nested accepts.
type record struct {
	ID                  string                    `json:"Id"`
	OfficeID            string                    `json:"OfficeId"`
	CreationTime        string                    `json:"CreationTime"`
	TimeGenerated       string                    `json:"TimeGenerated"`
	Operation           string                    `json:"Operation"`
	OrganizationID      string                    `json:"OrganizationId"`
	ResultStatus        string                    `json:"ResultStatus"`
	UserID              string                    `json:"UserId"`
	ClientIP            string                    `json:"ClientIP"`
	ClientIPAddress     string                    `json:"ClientIPAddress"`
	OfficeClientIP      string                    `json:"Client_IPAddress"`
	ActorIPAddress      string                    `json:"ActorIpAddress"`
	LogonError          string                    `json:"LogonError"`
	ErrorNumber         ingest.Text               `json:"ErrorNumber"`
	ErrorCode           ingest.Text               `json:"ErrorCode"`
	ExtendedProperties  ingest.Nested[nameValues] `json:"ExtendedProperties"`
	DeviceProperties    ingest.Nested[nameValues] `json:"DeviceProperties"`
	Parameters          ingest.Nested[nameValues] `json:"Parameters"`
	OperationProperties ingest.Nested[nameValues] `json:"OperationProperties"`
	Folders             ingest.Nested[[]folder]   `json:"Folders"`
	OperationCount      ingest.Text               `json:"OperationCount"`
	SessionID           string                    `json:"SessionId"`
	ClientInfoString    string                    `json:"ClientInfoString"`
	AppID               string                    `json:"AppId"`
	ObjectID            string                    `json:"ObjectId"`
}

// nameValues is the common schema's list of {"Name": ..., "Value": ...}.
type nameValues []struct {
	Name  string      `json:"Name"`
	Value ingest.Text `json:"Value"`
}

// get returns the value of name, ignoring case, or "".
func (n nameValues) get(name string) string {
	for _, nv := range n {
		if strings.EqualFold(nv.Name, name) {
			return string(nv.Value)
		}
	}
	return ""
}

type folder struct {
	Path        string     `json:"Path"`
	FolderItems []struct{} `json:"FolderItems"`
}

// ThrottledItems is how many items a throttled MailItemsAccessed record
// counts as. Exchange stops auditing a mailbox's MailItemsAccessed for 24
// hours once it logged more than 1,000 such records within 24 hours, and
// writes one record with IsThrottled True; each of those records stands for
// at least one item read, so the throttled record counts as 1,000.
const ThrottledItems = 1000

// decodeRecord decodes one audit record.
func decodeRecord(rec []byte, emit func(ingest.Event)) error {
	var r record
	if err := json.Unmarshal(rec, &r); err != nil {
		return fmt.Errorf("m365: %w", err)
	}
	if r.ID == "" {
		r.ID = r.OfficeID
	}
	f := ingest.Fields{User: r.UserID, ID: r.ID, Tenant: r.OrganizationID, Source: Name}
	var err error
	switch op := strings.ToLower(r.Operation); op {
	case "userloggedin", "userloginfailed":
		err = r.login(&f, op == "userloggedin")
	case "mailitemsaccessed":
		err = r.mailItemsAccessed(&f)
	case "new-inboxrule", "set-inboxrule":
		err = r.inboxRuleCmdlet(&f)
	case "updateinboxrules":
		err = r.updateInboxRules(&f)
	case "set-mailbox":
		err = r.setMailbox(&f)
	case "add-mailboxpermission":
		return fmt.Errorf("%w: m365 Add-MailboxPermission: the canonical event has no type for mailbox permissions", ingest.ErrSkip)
	case "":
		return fmt.Errorf("m365: record %s: field %q is required", r.ID, "Operation")
	default:
		return fmt.Errorf("%w: m365 operation %s", ingest.ErrSkip, r.Operation)
	}
	if err != nil {
		return fmt.Errorf("m365: %s %s: %w", r.Operation, r.ID, err)
	}
	if f.User == "" {
		return fmt.Errorf("m365: %s %s: field %q is required", r.Operation, r.ID, "UserId")
	}
	when, field := r.CreationTime, "CreationTime"
	if when == "" {
		when, field = r.TimeGenerated, "TimeGenerated"
	}
	if f.Time, err = ingest.ParseUTCTime(when); err != nil {
		return fmt.Errorf("m365: %s %s: field %q: %w", r.Operation, r.ID, field, err)
	}
	e, err := f.Event()
	if err != nil {
		return fmt.Errorf("m365: %s %s: %w", r.Operation, r.ID, err)
	}
	emit(e)
	return nil
}

// login reads an Azure AD STS logon. Its ResultStatus says whether the HTTP
// request succeeded, not the logon: the error number and LogonError do.
func (r *record) login(f *ingest.Fields, loggedIn bool) error {
	f.Type = ingest.TypeLogin
	f.IP = firstOf(r.ClientIP, r.ActorIPAddress, r.OfficeClientIP)
	if f.IP == "" {
		return fmt.Errorf("field %q or %q is required", "ClientIP", "ActorIpAddress")
	}
	f.UserAgent = r.ExtendedProperties.V.get("UserAgent")
	f.SessionID = r.DeviceProperties.V.get("SessionId")
	f.DeviceID = r.DeviceProperties.V.get("Id")
	raw := strings.TrimSpace(firstOf(string(r.ErrorNumber), string(r.ErrorCode)))
	var interrupt bool
	if code, err := strconv.Atoi(raw); err == nil && code >= 0 {
		f.Outcome, f.Reason, interrupt = entra.Outcome(code, r.LogonError)
	} else if loggedIn {
		f.Outcome = ingest.OutcomeSuccess
	} else {
		f.Outcome = ingest.OutcomeFailure
		f.Reason, interrupt = logonError(r.LogonError)
	}
	if interrupt {
		return fmt.Errorf("%w: logon error %s %s asks for another step (an interrupt)", ingest.ErrSkip, raw, r.LogonError)
	}
	return nil
}

// logonError maps the LogonError names of records that lack an error
// number to failure reasons, as entra.Outcome maps the numbers.
func logonError(name string) (reason string, interrupt bool) {
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, "interrupt") {
		// Every ...Interrupt is a step the user is asked to take after a
		// correct password (docs/formats.md), as entra.Outcome's codes
		// 50072 to 50199 are: PasswordResetRegistrationRequiredInterrupt
		// (50125) and the like, not only the names listed below.
		return "", true
	}
	switch lower {
	case "invalidusernameorpassword":
		return ingest.ReasonBadPassword, false
	case "useraccountnotfound":
		return ingest.ReasonUnknownUser, false
	case "idslocked", "userdisabled", "useraccountdisabled":
		return ingest.ReasonLocked, false
	case "authenticationfailedduringstrongauthrequest":
		// Entra's 500121, the second factor failing after a correct
		// password. The name does not say whether the prompt was denied
		// or left unanswered; both count toward MFA fatigue alike.
		return ingest.ReasonMFADenied, false
	case "userstrongauthclientauthnrequiredinterrupt", "userstrongauthclientauthnrequired",
		"userstrongauthenrollmentrequired", "deviceauthenticationrequired":
		return "", true
	}
	return ingest.ReasonOther, false
}

// mailItemsAccessed reads a MailItemsAccessed record: bind records list the
// messages read (Folders[].FolderItems), sync records name a folder whose
// items were all downloaded; OperationCount counts the aggregated
// operations.
func (r *record) mailItemsAccessed(f *ingest.Fields) error {
	f.Type = ingest.TypeMailboxAccess
	f.IP = firstOf(r.ClientIPAddress, r.ClientIP, r.OfficeClientIP)
	f.SessionID = r.SessionID
	f.UserAgent = r.ClientInfoString
	f.Protocol = clientProtocol(r.ClientInfoString, r.AppID)
	for _, fo := range r.Folders.V {
		f.Items += len(fo.FolderItems)
	}
	if f.Items == 0 && r.OperationCount != "" {
		n, err := strconv.Atoi(string(r.OperationCount))
		if err != nil || n < 0 {
			return fmt.Errorf("field %q: %q is not a count", "OperationCount", r.OperationCount)
		}
		f.Items = n
	}
	if strings.EqualFold(r.OperationProperties.V.get("IsThrottled"), "true") {
		f.Items = max(f.Items, ThrottledItems)
	}
	return nil
}

// clientProtocol maps the Client= part of ClientInfoString (and the Graph
// application id) to the canonical protocol.
func clientProtocol(info, appID string) string {
	if appID == "00000003-0000-0000-c000-000000000000" {
		return "graph"
	}
	client := ""
	for _, part := range strings.Split(info, ";") {
		if k, v, ok := strings.Cut(part, "="); ok && strings.EqualFold(strings.TrimSpace(k), "Client") {
			client = strings.ToLower(strings.TrimSpace(v))
			break
		}
	}
	switch client {
	case "":
		return ""
	case "owa":
		return "web"
	case "rest":
		return "graph"
	case "msexchangerpc", "mapi":
		return "mapi"
	case "activesync", "airsync":
		return "activesync"
	case "webservices", "ews":
		return "ews"
	case "imap4", "imap":
		return "imap"
	case "pop3", "pop":
		return "pop3"
	}
	return "other"
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
