// Package dovecottest starts a real Dovecot for tests: on free loopback
// ports, with a passwd-file of test users, its sockets, state and log under
// the test's temporary directory, and no systemd or /etc/dovecot involved.
// Tests read Dovecot's own log file to see what a mail server really logs,
// and may enable the doveadm HTTP API to act on sessions.
//
// The harness runs as root (login processes then run as the packaged
// dovenull and dovecot users, mail as nobody) or as any other user (every
// process then runs as that user). It needs the Debian package
// dovecot-imapd; without it, Start skips the test.
package dovecottest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// User is an account in the passwd-file.
type User struct {
	Name, Password string
}

// Options configure the server. The zero value starts an IMAP server
// without users.
type Options struct {
	Users []User
	// DoveadmAPIKey, when set, enables the doveadm HTTP API on a loopback
	// port of its own, authenticated with this key ("X-Dovecot-API").
	DoveadmAPIKey string
	// LogTimestamp is Dovecot's log_timestamp (strftime); empty keeps
	// Dovecot's default, "%b %d %H:%M:%S ".
	LogTimestamp string
	// TrustedNetworks is login_trusted_networks: clients there may forward
	// the original client address with IMAP ID (x-originating-ip).
	TrustedNetworks string
	// ExtraConfig is appended to dovecot.conf; later settings win.
	ExtraConfig string
}

// Server is a running Dovecot. Its fields are read-only.
type Server struct {
	// IMAPAddr is the IMAP listener, host:port on 127.0.0.1.
	IMAPAddr string
	// DoveadmURL is the doveadm HTTP API endpoint
	// ("http://127.0.0.1:port/doveadm/v1"), empty unless enabled.
	DoveadmURL string
	// DoveadmAPIKey is Options.DoveadmAPIKey.
	DoveadmAPIKey string
	// Dir holds everything of this server; ConfigPath is its dovecot.conf
	// (for doveadm -c); LogPath is the log file all services write to.
	Dir, ConfigPath, LogPath string

	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has been waited for
}

// ports are the listeners of one attempt to start.
type ports struct{ imap, doveadm int }

// identities are the system users Dovecot's processes run as.
type identities struct {
	login, internal string
	// internalGroup is default_internal_group, "" for Dovecot's default.
	internalGroup    string
	mailUID, mailGID int
}

// Start starts Dovecot and stops it when the test ends. It skips the test
// when Dovecot is not installed and fails it when Dovecot does not come up.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		if _, err = os.Stat("/usr/sbin/dovecot"); err != nil {
			t.Skip("dovecot is not installed (Debian package dovecot-imapd; scripts/test installs it)")
		}
		bin = "/usr/sbin/dovecot"
	}
	for _, u := range opt.Users {
		if u.Name == "" || strings.ContainsAny(u.Name+u.Password, ":\n\r") {
			t.Fatalf("dovecottest: user %q: names and passwords may not contain ':' or line breaks", u.Name)
		}
	}
	ids, err := processIdentities()
	if err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	// Another process may take a port between our probe and Dovecot's
	// bind; then try again with new ones.
	var lastErr error
	for range 5 {
		s, err := start(t, bin, opt, ids)
		if err == nil {
			return s
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	t.Fatalf("dovecottest: %v", lastErr)
	return nil
}

var errPortTaken = errors.New("port already in use")

func start(t testing.TB, bin string, opt Options, ids identities) (*Server, error) {
	dir, err := prepareDir(t, ids)
	if err != nil {
		return nil, err
	}
	p := ports{imap: freePort(t)}
	if opt.DoveadmAPIKey != "" {
		p.doveadm = freePort(t)
	}
	s := &Server{
		IMAPAddr:      net.JoinHostPort("127.0.0.1", strconv.Itoa(p.imap)),
		DoveadmAPIKey: opt.DoveadmAPIKey,
		Dir:           dir,
		ConfigPath:    filepath.Join(dir, "dovecot.conf"),
		LogPath:       logFileName(dir),
		done:          make(chan struct{}),
	}
	if p.doveadm != 0 {
		s.DoveadmURL = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(p.doveadm)) + "/doveadm/v1"
	}
	if err := os.WriteFile(passwdFileName(dir), []byte(passwdFile(opt.Users)), 0o644); err != nil {
		return nil, fmt.Errorf("writing passwd-file: %w", err)
	}
	if err := os.WriteFile(s.ConfigPath, []byte(configText(dir, p, ids, opt)), 0o644); err != nil {
		return nil, fmt.Errorf("writing dovecot.conf: %w", err)
	}
	// -F keeps the master in the foreground, so that it is our child and
	// its exit is seen; its own process group lets cleanup reach every
	// Dovecot process even if the master dies first.
	s.cmd = exec.Command(bin, "-F", "-c", s.ConfigPath)
	// A file, not a pipe: Dovecot's children inherit the descriptors, and
	// waiting for a pipe would wait for the last of them.
	outPath := filepath.Join(dir, "dovecot.out")
	out, err := os.Create(outPath)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", outPath, err)
	}
	defer out.Close()
	s.cmd.Stdout, s.cmd.Stderr = out, out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(10 * time.Second); err != nil {
		s.stop()
		log, _ := os.ReadFile(s.LogPath)
		output, _ := os.ReadFile(outPath)
		if bytes.Contains(log, []byte("Address already in use")) {
			return nil, errPortTaken
		}
		return nil, fmt.Errorf("dovecot did not come up: %w\noutput:\n%s\nlog:\n%s", err, output, log)
	}
	t.Cleanup(s.stop)
	return s, nil
}

// prepareDir makes the server's directory. t.TempDir is private to its
// owner, but Dovecot's login and mail processes run as other users when
// started as root and must reach their sockets and mail, so the path is
// opened for traversal.
func prepareDir(t testing.TB, ids identities) (string, error) {
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			return "", fmt.Errorf("opening %s for Dovecot's users: %w", d, err)
		}
	}
	for _, sub := range []string{"run", "state", "mail", "home"} {
		p := filepath.Join(dir, sub)
		if err := os.Mkdir(p, 0o755); err != nil {
			return "", fmt.Errorf("creating %s: %w", p, err)
		}
	}
	for _, sub := range []string{"mail", "home"} {
		p := filepath.Join(dir, sub)
		if err := os.Chown(p, ids.mailUID, ids.mailGID); err != nil && os.Geteuid() == 0 {
			return "", fmt.Errorf("giving %s to the mail user: %w", p, err)
		}
	}
	return dir, nil
}

// processIdentities picks the users Dovecot runs as: the packaged ones
// under root, the current user otherwise (Dovecot's rootless mode).
func processIdentities() (identities, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return identities{}, fmt.Errorf("looking up the current user: %w", err)
		}
		g, err := user.LookupGroupId(strconv.Itoa(os.Getegid()))
		if err != nil {
			return identities{}, fmt.Errorf("looking up the current group: %w", err)
		}
		return identities{login: u.Username, internal: u.Username, internalGroup: g.Name,
			mailUID: os.Geteuid(), mailGID: os.Getegid()}, nil
	}
	for _, name := range []string{"dovenull", "dovecot"} {
		if _, err := user.Lookup(name); err != nil {
			return identities{}, fmt.Errorf("user %s (created by the dovecot-core package): %w", name, err)
		}
	}
	ids := identities{login: "dovenull", internal: "dovecot", mailUID: 65534, mailGID: 65534}
	if u, err := user.Lookup("nobody"); err == nil {
		ids.mailUID, _ = strconv.Atoi(u.Uid)
		ids.mailGID, _ = strconv.Atoi(u.Gid)
	}
	return ids, nil
}

// waitReady waits until the IMAP listener greets.
func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-s.done:
			return errors.New("dovecot exited")
		default:
		}
		c, err := net.DialTimeout("tcp", s.IMAPAddr, time.Second)
		if err == nil {
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			buf := make([]byte, 64)
			n, _ := c.Read(buf)
			c.Close()
			if bytes.HasPrefix(buf[:n], []byte("* OK")) {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no IMAP greeting on %s within %s (last error: %v)", s.IMAPAddr, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the master with SIGTERM (it then stops its children), and
// kills the whole process group if that takes too long.
func (s *Server) stop() {
	pgid := s.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-s.done
	}
	// Children outliving a master that was killed.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}
