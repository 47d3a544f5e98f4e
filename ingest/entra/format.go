// Package entra reads Microsoft Entra ID (Azure AD) sign-in logs in the
// three shapes SOCs get them: the Azure Monitor diagnostic records that
// Event Hubs and storage exports deliver ({"records":[...]} batches of the
// SignInLogs and NonInteractiveUserSignInLogs categories), the Microsoft
// Graph auditLogs/signIns resource ({"value":[...]} pages or single
// objects), and the Log Analytics SigninLogs table exported as JSON or CSV.
//
// Sign-in error codes (AADSTS) become outcomes and failure reasons; see
// Outcome. The m365 package uses the same table for the Azure AD logons of
// the unified audit log.
package entra

import (
	"fmt"

	"github.com/atod-project/atod/ingest"
)

// Name is the format's name for --format and the source of its events.
const Name = "entra"

// Format returns the Entra ID sign-in log format.
func Format() ingest.Format {
	return ingest.Format{
		Name:        Name,
		Description: "Microsoft Entra ID sign-in logs: Azure Monitor diagnostic records (Event Hubs, storage), Microsoft Graph signIns, Log Analytics SigninLogs (JSON or CSV)",
		Sniff:       sniff,
		New:         func() ingest.Decoder { return decoder{} },
		Stateless:   true,
		SniffHeader: sniffHeader,
		NewCSV:      newCSV,
	}
}

// sniff looks for the user principal name that every user sign-in shape
// has, in Graph's spelling or Log Analytics', or for the service principal
// of a service principal's or managed identity's sign-in: those have no
// user, and are the format's to skip (unclaimed, the canonical format
// dead-lettered them for lacking a time).
func sniff(rec []byte) bool {
	return ingest.HasKey(rec, "userPrincipalName") || ingest.HasKey(rec, "UserPrincipalName") ||
		ingest.HasKey(rec, "servicePrincipalId") || ingest.HasKey(rec, "ServicePrincipalId")
}

// decoder decodes one record, or each record of a batch.
type decoder struct{}

func (decoder) Decode(rec []byte, emit func(ingest.Event)) error {
	parts, ok, err := ingest.Envelope(rec, "records", "value", "Records", "Value")
	if err != nil {
		return fmt.Errorf("entra: %w", err)
	}
	if !ok {
		return decodeRecord(rec, emit)
	}
	return ingest.EachRecord(parts, decodeRecord, emit)
}

func (decoder) Flush(func(ingest.Event)) {}

// csvDecoder decodes the rows of a Log Analytics SigninLogs CSV export.
type csvDecoder struct{ header ingest.CSVHeader }

func sniffHeader(line []byte) bool {
	h, err := ingest.ParseCSVHeader(line)
	return err == nil && h.Has("UserPrincipalName") && (h.Has("ResultType") || h.Has("Status")) &&
		(h.Has("TimeGenerated") || h.Has("CreatedDateTime"))
}

func newCSV(header []byte) (ingest.Decoder, error) {
	h, err := ingest.ParseCSVHeader(header)
	if err != nil {
		return nil, err
	}
	if !h.Has("UserPrincipalName") || !(h.Has("TimeGenerated") || h.Has("CreatedDateTime")) {
		return nil, fmt.Errorf("entra: CSV header lacks UserPrincipalName or TimeGenerated")
	}
	return csvDecoder{header: h}, nil
}

func (d csvDecoder) Decode(row []byte, emit func(ingest.Event)) error {
	obj, err := d.header.Object(row)
	if err != nil {
		return fmt.Errorf("entra: %w", err)
	}
	return decodeRecord(obj, emit)
}

func (csvDecoder) Flush(func(ingest.Event)) {}
