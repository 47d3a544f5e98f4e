// Package syslog sends alerts to a SIEM's syslog receiver: RFC 5424
// messages over TCP, optionally TLS (RFC 5425), framed by octet counting
// (RFC 6587 3.4.1) so that no content can split a message, with a CEF
// payload. One connection is kept open and re-dialled after a failure.
package syslog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/atod-project/atod/ingest/tlsfiles"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/detector"
)

// Config is sinks.syslog.
type Config struct {
	Address string `yaml:"address"` // host:port of the receiver
	// TLS enables RFC 5425; CAFile holds PEM roots for a private CA and
	// ServerName overrides the name checked in the receiver's certificate.
	TLS        bool   `yaml:"tls"`
	CAFile     string `yaml:"ca_file"`
	ServerName string `yaml:"server_name"`
	// Facility is the syslog facility's name (default authpriv).
	Facility string `yaml:"facility"`
	// Hostname is the HOSTNAME field; empty: this machine's name.
	Hostname string `yaml:"hostname"`
	// Framing is "octet_counting" (default) or "newline" for receivers
	// that only split on line feeds; CEF escapes line breaks, so both are
	// safe.
	Framing string `yaml:"framing"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config { return Config{Facility: "authpriv", Framing: "octet_counting"} }

// facilities are the names Linux's syslog.h and rsyslog know. "security" is
// there auth's old name (4), as receivers on Linux read it, not FreeBSD's
// LOG_SECURITY (13).
var facilities = map[string]int{"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5,
	"authpriv": 10, "security": 4, "local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20,
	"local5": 21, "local6": 22, "local7": 23}

// Validate checks the config; messages name keys relative to sinks.syslog.
func (c Config) Validate() error {
	var errs []error
	if _, port, err := net.SplitHostPort(c.Address); err != nil {
		errs = append(errs, fmt.Errorf("address: %q is not host:port", c.Address))
	} else if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		errs = append(errs, fmt.Errorf("address: port %q is not a number from 1 to 65535", port))
	}
	if _, ok := facilities[c.Facility]; !ok {
		errs = append(errs, fmt.Errorf("facility: %q is not a syslog facility name (auth, authpriv, local0, ...)", c.Facility))
	}
	if c.Framing != "octet_counting" && c.Framing != "newline" {
		errs = append(errs, fmt.Errorf("framing: %q, want octet_counting or newline", c.Framing))
	}
	if !c.TLS && (c.CAFile != "" || c.ServerName != "") {
		errs = append(errs, errors.New("ca_file and server_name need tls: true"))
	}
	return errors.Join(errs...)
}

// Options are what the caller provides besides the config.
type Options struct {
	Now     func() time.Time // nil: time.Now
	Version string           // atod's version, for the CEF header
}

// Client writes to one receiver. It is safe for concurrent use; writes
// are serialised on the one connection.
type Client struct {
	cfg      Config
	pri      map[string]int // severity → PRI
	hostname string
	tls      *tls.Config
	now      func() time.Time
	version  string

	// probeAfter is how long a connection may idle before it is probed.
	probeAfter time.Duration

	mu        sync.Mutex
	conn      net.Conn
	lastWrite time.Time
}

var _ alerts.Notifier = (*Client)(nil)

// New returns a client; it connects on the first alert.
func New(cfg Config, o Options) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, now: o.Now, version: o.Version, hostname: cfg.Hostname, probeAfter: time.Second}
	if c.now == nil {
		c.now = time.Now
	}
	if c.version == "" {
		c.version = "dev"
	}
	if c.hostname == "" {
		c.hostname, _ = os.Hostname()
	}
	c.hostname = headerField(c.hostname, 255)
	fac := facilities[cfg.Facility]
	// Alert severities onto syslog's: critical→crit, high→err,
	// medium→warning, low→notice.
	c.pri = map[string]int{detector.SeverityCritical: fac*8 + 2, detector.SeverityHigh: fac*8 + 3,
		detector.SeverityMedium: fac*8 + 4, detector.SeverityLow: fac*8 + 5}
	if cfg.TLS {
		c.tls = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.ServerName}
		if c.tls.ServerName == "" {
			c.tls.ServerName, _, _ = net.SplitHostPort(cfg.Address)
		}
		if cfg.CAFile != "" {
			var err error
			if c.tls.RootCAs, err = tlsfiles.Roots("ca_file", cfg.CAFile); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// Message renders one RFC 5424 message (without framing).
func (c *Client) Message(a detector.Alert) string {
	pri, ok := c.pri[a.Severity]
	if !ok {
		pri = c.pri[detector.SeverityMedium]
	}
	// <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG
	return "<" + strconv.Itoa(pri) + ">1 " + c.now().UTC().Format("2006-01-02T15:04:05.000000Z07:00") + " " +
		c.hostname + " atod " + strconv.Itoa(os.Getpid()) + " " + headerField(a.Rule, 32) + " - " + CEF(a, c.version)
}

// headerField makes s a valid header field: printable US-ASCII without
// spaces, at most n long, "-" when empty.
func headerField(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 33 || r > 126 {
			return -1
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n]
	}
	if s == "" {
		return "-"
	}
	return s
}

// Notify implements alerts.Notifier. A failed write closes the connection
// and is retryable: the next attempt dials again.
func (c *Client) Notify(ctx context.Context, a detector.Alert) (bool, error) {
	msg := c.Message(a)
	frame := msg + "\n"
	if c.cfg.Framing == "octet_counting" {
		frame = strconv.Itoa(len(msg)) + " " + msg
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil && (pending(c.conn) || time.Since(c.lastWrite) >= c.probeAfter) && !alive(c.conn) {
		c.conn.Close()
		c.conn = nil
	}
	if c.conn == nil {
		conn, err := c.dial(ctx)
		if err != nil {
			var certErr *tls.CertificateVerificationError
			return !errors.As(err, &certErr), fmt.Errorf("connecting to syslog receiver %s: %w", c.cfg.Address, err)
		}
		c.conn = conn
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Second)
	}
	_ = c.conn.SetWriteDeadline(deadline)
	if _, err := c.conn.Write([]byte(frame)); err != nil {
		c.conn.Close()
		c.conn = nil
		return true, fmt.Errorf("writing alert %s to %s: %w", a.ID, c.cfg.Address, err)
	}
	c.lastWrite = time.Now()
	return false, nil
}

// alive reports whether the receiver still holds the connection open. A
// write to a connection the peer has closed usually succeeds (the kernel
// buffers it) and the alert is lost, so an idle connection is probed with a
// short read first: receivers never send, so anything but a timeout means
// the connection is gone. A TLS read timeout leaves the session usable.
func alive(conn net.Conn) bool {
	_ = conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	defer conn.SetReadDeadline(time.Time{}) //nolint:errcheck // reset only
	var b [64]byte
	_, err := conn.Read(b[:])
	var ne net.Error
	return err == nil || (errors.As(err, &ne) && ne.Timeout())
}

func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if c.tls == nil {
		return d.DialContext(ctx, "tcp", c.cfg.Address)
	}
	td := &tls.Dialer{NetDialer: d, Config: c.tls}
	return td.DialContext(ctx, "tcp", c.cfg.Address)
}

// Close closes the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	return err
}
