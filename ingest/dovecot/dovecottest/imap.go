package dovecottest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// ErrAuthFailed is returned by Login when the server refused the
// credentials.
var ErrAuthFailed = errors.New("imap: authentication failed")

// IMAPConn is a minimal IMAP client: enough to sign in, keep a session
// open and log out, the way a mail client would.
type IMAPConn struct {
	conn net.Conn
	r    *bufio.Reader
	tag  int
}

// DialIMAP connects to addr from localIP ("" lets the kernel choose).
// Every address of 127.0.0.0/8 is local on Linux, so tests can act as
// several clients from distinct loopback addresses.
func DialIMAP(addr, localIP string) (*IMAPConn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	if localIP != "" {
		ip := net.ParseIP(localIP)
		if ip == nil {
			return nil, fmt.Errorf("imap: local address %q is not an IP address", localIP)
		}
		d.LocalAddr = &net.TCPAddr{IP: ip}
	}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("imap: dialing %s: %w", addr, err)
	}
	c := &IMAPConn{conn: conn, r: bufio.NewReader(conn)}
	greeting, err := c.readLine()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("imap: reading greeting: %w", err)
	}
	if !strings.HasPrefix(greeting, "* OK") {
		conn.Close()
		return nil, fmt.Errorf("imap: unexpected greeting %q", greeting)
	}
	return c, nil
}

// Login signs in with LOGIN. A refusal returns ErrAuthFailed and leaves
// the connection open for another attempt.
func (c *IMAPConn) Login(user, password string) error {
	status, text, err := c.command("LOGIN " + quote(user) + " " + quote(password))
	switch {
	case err != nil:
		return err
	case status == "NO":
		return fmt.Errorf("%w: %s", ErrAuthFailed, text)
	case status != "OK":
		return fmt.Errorf("imap: LOGIN answered %s %s", status, text)
	}
	return nil
}

// ID sends the IMAP ID command with the given field pairs; a client in
// login_trusted_networks forwards the original client address this way
// (x-originating-ip, x-originating-port, x-session-ext-id).
func (c *IMAPConn) ID(fields map[string]string) error {
	var parts []string
	for k, v := range fields {
		parts = append(parts, quote(k), quote(v))
	}
	status, text, err := c.command("ID (" + strings.Join(parts, " ") + ")")
	if err != nil {
		return err
	}
	if status != "OK" {
		return fmt.Errorf("imap: ID answered %s %s", status, text)
	}
	return nil
}

// Noop checks that the session is still alive.
func (c *IMAPConn) Noop() error {
	status, text, err := c.command("NOOP")
	if err != nil {
		return err
	}
	if status != "OK" {
		return fmt.Errorf("imap: NOOP answered %s %s", status, text)
	}
	return nil
}

// Logout ends the session politely and closes the connection.
func (c *IMAPConn) Logout() error {
	_, _, err := c.command("LOGOUT")
	return errors.Join(err, c.conn.Close())
}

// Close drops the connection without logging out.
func (c *IMAPConn) Close() error { return c.conn.Close() }

// command sends one tagged command and reads until its tagged answer.
func (c *IMAPConn) command(cmd string) (status, text string, err error) {
	c.tag++
	tag := "a" + strconv.Itoa(c.tag)
	_ = c.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c.conn, "%s %s\r\n", tag, cmd); err != nil {
		return "", "", fmt.Errorf("imap: sending %s: %w", strings.Fields(cmd)[0], err)
	}
	for {
		line, err := c.readLine()
		if err != nil {
			return "", "", fmt.Errorf("imap: reading answer to %s: %w", strings.Fields(cmd)[0], err)
		}
		if rest, ok := strings.CutPrefix(line, tag+" "); ok {
			status, text, _ = strings.Cut(rest, " ")
			return status, text, nil
		}
	}
}

func (c *IMAPConn) readLine() (string, error) {
	line, err := c.r.ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// quote makes an IMAP quoted string.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
