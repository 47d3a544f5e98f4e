package tail

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodePosition checks the reading of the position file, which a
// crash, a full disk or a hand edit may have left in any state: it gives
// a position or an error, never a panic. A position accepted is one
// savePosition could have written (a head of at most fingerprintLen bytes
// hashed as hex SHA-256, an offset not before the start), so that
// matching it against a file and seeking to it cannot fail or panic; it
// is written back to the same position; and it can be checked against
// the very file it names without a panic.
func FuzzDecodePosition(f *testing.F) {
	log := filepath.Join(f.TempDir(), "mail.log")
	if err := os.WriteFile(log, []byte("Mar  2 08:31:07 mx1 postfix/smtpd[982]: connect from unknown[203.0.113.5]\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	file, err := os.Open(log)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { file.Close() })
	fi, err := file.Stat()
	if err != nil {
		f.Fatal(err)
	}
	dev, ino, _ := identity(fi)
	n, head, err := fingerprint(file)
	if err != nil {
		f.Fatal(err)
	}
	saved, err := encodePosition(&position{Path: log, Dev: dev, Ino: ino, Offset: 42, HeadLen: n, Head: head})
	if err != nil {
		f.Fatal(err)
	}
	empty := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" // SHA-256 of nothing
	for _, s := range []string{
		string(saved),
		`{"path":"/var/log/mail.log","dev":2049,"ino":1311,"offset":0,"head_len":0,"head":"` + empty + `"}`,
		`{"path":"/var/log/mail.log","dev":2049,"ino":1311,"offset":-1,"head_len":-1,"head":"` + empty + `"}`,
		`{"path":"/var/log/mail.log","dev":2049,"ino":1311,"offset":9,"head_len":1099511627776,"head":"zz"}`,
		`{"path":"/var/log/mail.log","offset":1}{"offset":2}`,
		`{"path":"x","extra":1}`,
		`{`, ``, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pos, err := decodePosition(b)
		if err != nil {
			if pos != nil {
				t.Fatalf("%q: position %+v with error %v", b, pos, err)
			}
			return
		}
		if pos.HeadLen < 0 || pos.HeadLen > fingerprintLen || pos.Offset < 0 {
			t.Fatalf("%q accepted: head_len %d, offset %d", b, pos.HeadLen, pos.Offset)
		}
		if sum, err := hex.DecodeString(pos.Head); err != nil || len(sum) != 32 || hex.EncodeToString(sum) != pos.Head {
			t.Fatalf("%q accepted: head %q is not a hex SHA-256", b, pos.Head)
		}
		out, err := encodePosition(pos)
		if err != nil {
			t.Fatalf("%+v: %v", pos, err)
		}
		if again, err := decodePosition(out); err != nil || *again != *pos {
			t.Fatalf("%q written as %q reads back as %+v (%v)", b, out, again, err)
		}
		same := *pos
		same.Dev, same.Ino = dev, ino
		same.matches(file)
	})
}
