package ingest

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCSVObject: the header and rows of an admin portal CSV export
// are untrusted. ParseCSVHeader and Object give a result or an error,
// never a panic; an Object is a valid JSON object, valid UTF-8, holding
// exactly the row's non-empty columns that have a name, in order, each
// under its trimmed header name.
func FuzzCSVObject(f *testing.F) {
	f.Add([]byte("\xef\xbb\xbfTimeGenerated [UTC],UserPrincipalName, IPAddress "), []byte(`3/2/2026 8:31:07 AM,a@b.org,"192.0.2.1"`))
	f.Add([]byte(`a,"b""c",,d`), []byte("1,\"x\ny\",,\"\r\n\""))
	f.Add([]byte("a,b"), []byte("1,2,3"))
	f.Add([]byte("a,a"), []byte("\xff,\x00"))
	f.Add([]byte(`"a`), []byte(`b"`))
	f.Fuzz(func(t *testing.T, header, row []byte) {
		h, err := ParseCSVHeader(header)
		if err != nil {
			return
		}
		for _, n := range h.names {
			if n != strings.TrimSpace(n) {
				t.Fatalf("header name %q not trimmed", n)
			}
		}
		obj, err := h.Object(row)
		if err != nil {
			return
		}
		if !json.Valid(obj) || !utf8.Valid(obj) {
			t.Fatalf("Object(%q) under %q = %q: not valid JSON / UTF-8", row, header, obj)
		}
		fields, err := SplitCSV(row)
		if err != nil {
			t.Fatalf("Object accepted %q, SplitCSV refuses it: %v", row, err)
		}
		dec := json.NewDecoder(bytes.NewReader(obj))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			t.Fatalf("Object %q does not start an object", obj)
		}
		i := 0
		for dec.More() {
			kt, err1 := dec.Token()
			vt, err2 := dec.Token()
			if err1 != nil || err2 != nil {
				t.Fatalf("Object %q: %v %v", obj, err1, err2)
			}
			k, v := kt.(string), vt.(string)
			for i < len(fields) && (fields[i] == "" || h.names[i] == "") {
				i++
			}
			if i == len(fields) {
				t.Fatalf("Object %q has more members than %q has non-empty columns", obj, fields)
			}
			if utf8.ValidString(h.names[i]) && k != h.names[i] {
				t.Fatalf("column %d named %q in %q, header says %q", i, k, obj, h.names[i])
			}
			if utf8.ValidString(fields[i]) && v != fields[i] {
				t.Fatalf("column %d is %q in %q, row says %q", i, v, obj, fields[i])
			}
			i++
		}
		for ; i < len(fields); i++ {
			if fields[i] != "" && h.names[i] != "" {
				t.Fatalf("Object %q lost column %d (%q) of %q", obj, i, fields[i], row)
			}
		}
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
		if _, err := dec.Token(); err != io.EOF {
			t.Fatalf("Object %q: more after the object", obj)
		}
	})
}
