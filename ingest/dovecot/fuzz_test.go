package dovecot

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/syslog"
)

func FuzzDecode(f *testing.F) {
	paths, _ := filepath.Glob("../../testdata/mail/*.log")
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
	f.Add([]byte("Mar 02 08:19:55 auth: a(b,(c,<d>)<e>: f(g,h,<i>)<j>: unknown user"))
	f.Add([]byte("Mar 02 08:19:55 imap-login: Login: user=<, rip=<>, session=<"))
	// One decoder for the whole run, as for a long stream: its memory
	// must stay bounded whatever arrives.
	prog := NewProgram().(*Program)
	d := syslog.NewFormat(FormatName, "", testOpt, func() syslog.Program { return prog }).New()
	f.Fuzz(func(t *testing.T, line []byte) {
		_ = d.Decode(line, func(e ingest.Event) {
			if e.User == "" || !e.IP.IsValid() || e.Time.IsZero() {
				t.Fatalf("incomplete event %+v from %q", e, line)
			}
		})
		if len(prog.pending) > maxPending || len(prog.order) > maxPending {
			t.Fatalf("pending %d, order %d", len(prog.pending), len(prog.order))
		}
	})
}
