// Package m365 reads the Microsoft 365 unified audit log: records of the
// Office 365 Management Activity API (JSON arrays of content blobs, or one
// record per line), the Purview audit search CSV export (whose AuditData
// column holds the same record), and the Log Analytics OfficeActivity
// table exported as JSON or CSV.
//
// It turns Azure AD logons (UserLoggedIn, UserLoginFailed) into logins,
// MailItemsAccessed into mailbox access with item counts, and inbox rule
// and mailbox forwarding changes (New-InboxRule, Set-InboxRule,
// UpdateInboxRules, Set-Mailbox) into inbox_rule events. Every other
// operation is skipped.
package m365

import (
	"errors"
	"fmt"
	"strings"

	"github.com/atod-project/atod/ingest"
)

// Name is the format's name for --format and the source of its events.
const Name = "m365"

// Format returns the Microsoft 365 unified audit log format.
func Format() ingest.Format {
	return ingest.Format{
		Name:        Name,
		Description: "Microsoft 365 unified audit log: Management Activity API records, Purview audit search CSV, Log Analytics OfficeActivity (JSON or CSV)",
		Sniff:       sniff,
		New:         func() ingest.Decoder { return decoder{} },
		Stateless:   true,
		SniffHeader: sniffHeader,
		NewCSV:      newCSV,
	}
}

// sniff looks for the Workload of the common schema, or OfficeActivity's.
func sniff(rec []byte) bool {
	return ingest.HasKey(rec, "Workload") || ingest.HasKey(rec, "OfficeWorkload")
}

type decoder struct{}

func (decoder) Decode(rec []byte, emit func(ingest.Event)) error {
	parts, ok, err := ingest.Envelope(rec, "records", "Records", "value")
	if err != nil {
		return fmt.Errorf("m365: %w", err)
	}
	if !ok {
		return decodeRecord(rec, emit)
	}
	return ingest.EachRecord(parts, decodeRecord, emit)
}

func (decoder) Flush(func(ingest.Event)) {}

func sniffHeader(line []byte) bool {
	h, err := ingest.ParseCSVHeader(line)
	return err == nil && (h.Has("AuditData") || h.Has("OfficeWorkload", "Operation"))
}

func newCSV(header []byte) (ingest.Decoder, error) {
	h, err := ingest.ParseCSVHeader(header)
	if err != nil {
		return nil, err
	}
	if col := h.Index("AuditData"); col >= 0 {
		return purviewDecoder{column: col}, nil
	}
	if !h.Has("OfficeWorkload", "Operation") {
		return nil, errors.New("m365: CSV header has neither AuditData nor OfficeWorkload and Operation")
	}
	return officeActivityDecoder{header: h}, nil
}

// purviewDecoder reads the Purview audit search export, whose AuditData
// column holds the Management Activity API record.
type purviewDecoder struct{ column int }

func (d purviewDecoder) Decode(row []byte, emit func(ingest.Event)) error {
	fields, err := ingest.SplitCSV(row)
	if err != nil {
		return fmt.Errorf("m365: %w", err)
	}
	if d.column >= len(fields) || strings.TrimSpace(fields[d.column]) == "" {
		return errors.New("m365: the AuditData column is empty")
	}
	return decodeRecord([]byte(fields[d.column]), emit)
}

func (purviewDecoder) Flush(func(ingest.Event)) {}

// officeActivityDecoder reads OfficeActivity exported from Log Analytics.
type officeActivityDecoder struct{ header ingest.CSVHeader }

func (d officeActivityDecoder) Decode(row []byte, emit func(ingest.Event)) error {
	obj, err := d.header.Object(row)
	if err != nil {
		return fmt.Errorf("m365: %w", err)
	}
	return decodeRecord(obj, emit)
}

func (officeActivityDecoder) Flush(func(ingest.Event)) {}
