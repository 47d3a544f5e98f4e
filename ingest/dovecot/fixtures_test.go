package dovecot_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/dovecot"
	"github.com/atod-project/atod/ingest/postfix"
	"github.com/atod-project/atod/ingest/syslog"
)

var update = flag.Bool("update", false, "rewrite the expected events of testdata/mail")

// TestFixtures reads every log of testdata/mail as a mixed mail log
// (Dovecot and Postfix) and compares the events, and the count of skipped
// and refused lines, with the file's .events.jsonl.
func TestFixtures(t *testing.T) {
	logs, err := filepath.Glob("../../testdata/mail/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range logs {
		if strings.HasSuffix(path, ".events.jsonl") {
			continue
		}
		n++
		t.Run(filepath.Base(path), func(t *testing.T) {
			got := decodeFile(t, path)
			want := strings.TrimSuffix(path, filepath.Ext(path)) + ".events.jsonl"
			if *update {
				if err := os.WriteFile(want, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			exp, err := os.ReadFile(want)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, exp) {
				t.Errorf("events differ from %s:\ngot:\n%s\nwant:\n%s", want, got, exp)
			}
		})
	}
	if n < 5 {
		t.Fatalf("found %d logs in testdata/mail", n)
	}
}

func decodeFile(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	format := syslog.NewCatchAll("syslog", "", syslog.Options{Location: time.UTC, Year: 2026}, dovecot.NewProgram, postfix.NewProgram)
	d := format.New()
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	emit := func(e ingest.Event) {
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
	}
	var skipped, refused int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if !format.Sniff(sc.Bytes()) {
			t.Errorf("Sniff refuses %s", sc.Bytes())
		}
		err := d.Decode(sc.Bytes(), emit)
		switch {
		case errors.Is(err, ingest.ErrSkip):
			skipped++
		case err != nil:
			refused++
			fmt.Fprintf(&out, "# refused: %v\n", err)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	d.Flush(emit)
	fmt.Fprintf(&out, "# skipped %d, refused %d\n", skipped, refused)
	return out.Bytes()
}
