package syslog

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"
)

// addFixtures seeds a fuzz target with every line of testdata/mail.
func addFixtures(f *testing.F) {
	paths, _ := filepath.Glob("../../testdata/mail/*")
	for _, p := range paths {
		file, err := os.Open(p)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			f.Add(append([]byte(nil), sc.Bytes()...))
		}
		file.Close()
	}
}

func FuzzParse(f *testing.F) {
	addFixtures(f)
	f.Add([]byte(`<13>1 - - - - - [a="\]"]`))
	f.Add([]byte(`{"MESSAGE":[1,2,300],"__REALTIME_TIMESTAMP":"1"}`))
	f.Add([]byte("Feb 29 23:59:60.999999999999 h t[: x"))
	f.Fuzz(func(t *testing.T, line []byte) {
		p := NewParser(Options{Location: time.UTC, Year: 2026})
		m, err := p.Parse(line)
		if err != nil {
			return
		}
		if m.Time.IsZero() || m.Time.Location() != time.UTC {
			t.Fatalf("time %v of %q", m.Time, line)
		}
		if len(m.Text) > len(m.Body) && utf8.Valid(line) {
			t.Fatalf("text longer than body for %q", line)
		}
		// A second stream state must not change how one line reads.
		if _, err := p.Parse(line); err != nil {
			t.Fatalf("second parse of %q failed: %v", line, err)
		}
	})
}

// mayHaveMessage may say yes wrongly, never no: a record it turns away
// holds no message key for encoding/json either.
func FuzzMayHaveMessage(f *testing.F) {
	f.Add([]byte(`{"time":"2026-03-02T08:00:00Z","user":"a@b","type":"login"}`))
	f.Add([]byte(`{"MeSsAgE":"x","time":"2026-03-02T08:00:00Z"}`))
	f.Add([]byte(`{"m\u0073g":"x"}`))
	f.Add([]byte(`{"mſg":"x"}`))
	f.Add([]byte(`{"a":"\"msg\":1"}`))
	f.Fuzz(func(t *testing.T, rec []byte) {
		if mayHaveMessage(rec) {
			return
		}
		var r jsonRecord
		if json.Unmarshal(rec, &r) == nil && (r.Message != nil || r.Msg != nil) {
			t.Fatalf("%q holds a message key, but mayHaveMessage said no", rec)
		}
	})
}
