package dovecot_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/dovecot"
	"github.com/atod-project/atod/ingest/syslog"
)

// writeBenchLog writes n lines of a busy mail server's /var/log/mail.log:
// for every ten connections, seven sign in and log out, two fail (an auth
// verdict and the closing line), one never tries; a tenth of all lines
// come from other programs.
func writeBenchLog(w io.Writer, n int) error {
	bw := bufio.NewWriter(w)
	rng := rand.New(rand.NewPCG(1, 2))
	t := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; {
		t = t.Add(time.Duration(rng.IntN(200)) * time.Millisecond)
		ts := t.Format(time.Stamp)
		sess := strconv.FormatUint(rng.Uint64(), 36)
		user := fmt.Sprintf("user%d@example.org", rng.IntN(5000))
		ip := fmt.Sprintf("198.51.%d.%d", rng.IntN(256), 1+rng.IntN(254))
		proto := [...]string{"imap", "imap", "imap", "pop3", "submission"}[rng.IntN(5)]
		var lines []string
		switch k := rng.IntN(10); {
		case k < 7:
			lines = []string{
				fmt.Sprintf("%s mx1 dovecot: %s-login: Login: user=<%s>, method=PLAIN, rip=%s, lip=192.0.2.10, mpid=%d, TLS, session=<%s>", ts, proto, user, ip, 1000+i, sess),
				fmt.Sprintf("%s mx1 dovecot: %s(%s)<%d><%s>: Logged out in=%d out=%d deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0", ts, proto, user, 1000+i, sess, rng.IntN(1000), rng.IntN(100000)),
			}
		case k < 9:
			verdict := "Password mismatch"
			if rng.IntN(2) == 0 {
				verdict = "unknown user"
			}
			lines = []string{
				fmt.Sprintf("%s mx1 dovecot: auth: passwd-file(%s,%s,<%s>): %s", ts, user, ip, sess, verdict),
				fmt.Sprintf("%s mx1 dovecot: %s-login: Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): user=<%s>, method=PLAIN, rip=%s, lip=192.0.2.10, TLS, session=<%s>", ts, proto, user, ip, sess),
			}
		default:
			lines = []string{fmt.Sprintf("%s mx1 dovecot: imap-login: Disconnected (no auth attempts in 0 secs): user=<>, rip=%s, lip=192.0.2.10, TLS, session=<%s>", ts, ip, sess)}
		}
		if rng.IntN(10) == 0 {
			lines = append(lines, fmt.Sprintf("%s mx1 postfix/smtpd[%d]: connect from unknown[%s]", ts, 2000+i, ip))
		}
		for _, l := range lines {
			if _, err := bw.WriteString(l + "\n"); err != nil {
				return err
			}
			i++
		}
	}
	return bw.Flush()
}

// decodeLog reads a log with the dovecot format and returns lines and
// events.
func decodeLog(path string) (lines, events int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	d := dovecot.Format(syslog.Options{Location: time.UTC, Year: 2026}).New()
	emit := func(ingest.Event) { events++ }
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines++
		if err := d.Decode(sc.Bytes(), emit); err != nil && !errors.Is(err, ingest.ErrSkip) {
			return lines, events, fmt.Errorf("line %d: %w", lines, err)
		}
	}
	d.Flush(emit)
	return lines, events, sc.Err()
}

// BenchmarkDecode measures lines per second of the Dovecot parser on a
// generated mail log held in memory.
func BenchmarkDecode(b *testing.B) {
	path := filepath.Join(b.TempDir(), "mail.log")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := writeBenchLog(f, 100_000); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.ResetTimer()
	var lines int
	for b.Loop() {
		n, _, err := decodeLog(path)
		if err != nil {
			b.Fatal(err)
		}
		lines += n
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkVersusFail2ban reads one generated log of 200,000 lines with
// atod's parser and with fail2ban-regex and its dovecot filter (Debian
// package fail2ban), and reports both rates. Run it once:
//
//	go test -run - -bench VersusFail2ban -benchtime 1x ./ingest/dovecot
func BenchmarkVersusFail2ban(b *testing.B) {
	filter := "/etc/fail2ban/filter.d/dovecot.conf"
	if _, err := exec.LookPath("fail2ban-regex"); err != nil {
		b.Skip("fail2ban-regex is not installed (apt-get install fail2ban)")
	}
	const n = 200_000
	path := filepath.Join(b.TempDir(), "mail.log")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := writeBenchLog(f, n); err != nil {
		b.Fatal(err)
	}
	f.Close()
	for b.Loop() {
		start := time.Now()
		lines, events, err := decodeLog(path)
		if err != nil {
			b.Fatal(err)
		}
		atod := time.Since(start)

		start = time.Now()
		out, err := exec.Command("fail2ban-regex", "--print-no-missed", "--print-no-ignored", path, filter).CombinedOutput()
		if err != nil {
			b.Fatalf("fail2ban-regex: %v\n%s", err, out)
		}
		f2b := time.Since(start)
		m := regexp.MustCompile(`Lines: (\d+) lines, \d+ ignored, (\d+) matched`).FindSubmatch(out)
		if m == nil {
			b.Fatalf("fail2ban-regex printed no summary:\n%s", out)
		}
		b.ReportMetric(float64(lines)/atod.Seconds(), "atod-lines/s")
		b.ReportMetric(float64(lines)/f2b.Seconds(), "fail2ban-lines/s")
		b.Logf("atod: %d lines, %d events in %s; fail2ban-regex: %s lines, %s matched in %s", lines, events, atod, m[1], m[2], f2b)
	}
}
