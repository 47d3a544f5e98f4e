package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The syslog section sets the zone and year of year-less timestamps, so a
// replay of an archived mail log does not depend on today's date.
func TestSyslogZoneAndYear(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "mail.log")
	os.WriteFile(logPath, []byte("Mar  2 09:15:01 mx1 dovecot: imap-login: Login: user=<anna@example.org>, method=PLAIN, rip=84.128.0.10, lip=10.0.0.5, mpid=4242, TLS, session=<abcDEF123>\n"), 0o644)
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("syslog:\n  time_zone: Europe/Berlin\n  year: 2024\n"), 0o644)
	code, out, errOut := runCLI(t, "", "events", "--config", cfg, "--format", "dovecot", "--log-level", "error", logPath)
	if code != 0 || !strings.Contains(out, `"time":"2024-03-02T08:15:01Z"`) {
		t.Errorf("exit %d, events %q (%s); want 09:15:01 Berlin time in 2024 as 08:15:01Z", code, out, errOut)
	}
	os.WriteFile(cfg, []byte("syslog:\n  time_zone: Mars/Olympus\n"), 0o644)
	if code, _, errOut := runCLI(t, "", "events", "--config", cfg, logPath); code != 2 || !strings.Contains(errOut, "syslog.time_zone") {
		t.Errorf("bad zone: exit %d, %s", code, errOut)
	}
}
