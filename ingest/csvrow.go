package ingest

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// CSVHeader is the header row of a CSV export, for formats that read admin
// portal exports (Format.SniffHeader, Format.NewCSV).
type CSVHeader struct {
	names []string
}

// ParseCSVHeader reads a header row. Column names are trimmed, and the
// " [UTC]" that Log Analytics appends to time columns ("TimeGenerated
// [UTC]") is removed: the times are parsed as UTC anyway.
func ParseCSVHeader(line []byte) (CSVHeader, error) {
	fields, err := SplitCSV(bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")))
	if err != nil {
		return CSVHeader{}, fmt.Errorf("reading CSV header: %w", err)
	}
	for i, f := range fields {
		f = strings.TrimSpace(f)
		fields[i] = strings.TrimSpace(strings.TrimSuffix(f, " [UTC]"))
	}
	return CSVHeader{names: fields}, nil
}

// Has reports whether the header has every one of the columns, ignoring
// case.
func (h CSVHeader) Has(names ...string) bool {
	for _, n := range names {
		if h.Index(n) < 0 {
			return false
		}
	}
	return true
}

// Index returns the position of the column name, ignoring case, or -1.
func (h CSVHeader) Index(name string) int {
	for i, c := range h.names {
		if strings.EqualFold(c, name) {
			return i
		}
	}
	return -1
}

// Object returns a row as a JSON object of its non-empty columns, all as
// strings ({"TimeGenerated":"...","UserPrincipalName":"..."}), so that a
// format decodes a CSV export with the same code as its JSON records.
func (h CSVHeader) Object(row []byte) ([]byte, error) {
	fields, err := SplitCSV(row)
	if err != nil {
		return nil, err
	}
	if len(fields) > len(h.names) {
		return nil, fmt.Errorf("row has %d columns, the header %d", len(fields), len(h.names))
	}
	var b bytes.Buffer
	b.Grow(len(row) + 16*len(fields))
	b.WriteByte('{')
	for i, f := range fields {
		if f == "" || h.names[i] == "" {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		writeJSONString(&b, h.names[i])
		b.WriteByte(':')
		writeJSONString(&b, f)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // a string always marshals
	b.Write(q)
}

// SplitCSV splits one CSV record, which may span lines inside quotes, into
// its fields (RFC 4180, as encoding/csv reads it).
func SplitCSV(rec []byte) ([]string, error) {
	r := csv.NewReader(bytes.NewReader(rec))
	r.FieldsPerRecord = -1
	fields, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("reading CSV row: %w", err)
	}
	if _, err := r.Read(); !errors.Is(err, io.EOF) {
		return nil, errors.New("reading CSV row: more than one row in the record")
	}
	return fields, nil
}
