// Package command runs a local program for each alert or revocation: the
// escape hatch for systems atod has no package for (an on-premises IdP's
// CLI, a ticketing script). The program runs without a shell, so nothing in
// an alert can inject a command; it reads the alert as JSON on stdin and
// finds the account in ATOD_USER. Exit status 0 is success, 75
// (EX_TEMPFAIL) asks for a retry, anything else is a permanent failure.
package command

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/internal/httpx"
	"github.com/atod-project/atod/detector"
)

// Config is hooks.command or sinks.command.
type Config struct {
	// Path is the program, absolute so that $PATH cannot swap it.
	Path string `yaml:"path"`
	// Args are passed as they are, except that {user}, {alert_id}, {ip}
	// and {rule} are replaced, each within its one argument.
	Args []string `yaml:"args"`
	// Env lists extra NAME=value pairs; the program gets only these, PATH
	// and the ATOD_ variables, not atod's environment (which may hold
	// secrets). They may set PATH, not an ATOD_ variable.
	Env []string `yaml:"env"`
}

// Validate checks the config; messages name keys relative to the section.
func (c Config) Validate() error {
	var errs []error
	if !filepath.IsAbs(c.Path) {
		errs = append(errs, fmt.Errorf("path: %q must be absolute", c.Path))
	} else if st, err := os.Stat(c.Path); err != nil {
		errs = append(errs, fmt.Errorf("path: %w", err))
	} else if st.IsDir() || st.Mode()&0o111 == 0 {
		errs = append(errs, fmt.Errorf("path: %s is not an executable file", c.Path))
	}
	for i, e := range c.Env {
		k, _, ok := strings.Cut(e, "=")
		switch {
		case !ok || k == "":
			errs = append(errs, fmt.Errorf("env[%d]: %q is not NAME=value", i, e))
		case strings.HasPrefix(k, "ATOD_"):
			// What the program acts on: one set here would name another
			// account than the alert's.
			errs = append(errs, fmt.Errorf("env[%d]: %s is set by atod for each call", i, k))
		}
	}
	return errors.Join(errs...)
}

// ExitTempFail is the exit status that asks for a retry (sysexits.h).
const ExitTempFail = 75

// Runner runs the program. It is safe for concurrent use; each call runs
// its own process.
type Runner struct {
	cfg Config
}

var (
	_ alerts.Notifier  = (*Runner)(nil)
	_ alerts.Revoker   = (*Runner)(nil)
	_ alerts.Describer = (*Runner)(nil)
)

// New returns a runner.
func New(cfg Config) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Runner{cfg: cfg}, nil
}

// Notify implements alerts.Notifier: stdin is the alert.
func (r *Runner) Notify(ctx context.Context, a detector.Alert) (bool, error) {
	body, err := json.Marshal(&a)
	if err != nil {
		return false, fmt.Errorf("encoding alert %s: %w", a.ID, err)
	}
	return r.run(ctx, "alert", a.User, a, body)
}

// Revoke implements alerts.Revoker: stdin is {"action","user","alert"}.
func (r *Runner) Revoke(ctx context.Context, user string, a detector.Alert) (bool, error) {
	body, err := json.Marshal(map[string]any{"action": detector.ActionRevoke, "user": user, "alert": a})
	if err != nil {
		return false, fmt.Errorf("encoding revocation: %w", err)
	}
	return r.run(ctx, "revoke", user, a, body)
}

// Describe implements alerts.Describer.
func (r *Runner) Describe(user string) string {
	return strings.Join(append([]string{r.cfg.Path}, r.args(user, detector.Alert{ID: "ALERT"})...), " ")
}

func (r *Runner) args(user string, a detector.Alert) []string {
	rep := strings.NewReplacer("{user}", user, "{alert_id}", a.ID, "{ip}", a.IP, "{rule}", a.Rule)
	out := make([]string, len(r.cfg.Args))
	for i, s := range r.cfg.Args {
		out[i] = rep.Replace(s)
	}
	return out
}

func (r *Runner) run(ctx context.Context, event, user string, a detector.Alert, stdin []byte) (bool, error) {
	cmd := exec.CommandContext(ctx, r.cfg.Path, r.args(user, a)...)
	cmd.Env = append([]string{"PATH=/usr/local/bin:/usr/bin:/bin", "ATOD_EVENT=" + event, "ATOD_USER=" + user,
		"ATOD_ALERT_ID=" + a.ID, "ATOD_RULE=" + a.Rule, "ATOD_IP=" + a.IP}, r.cfg.Env...)
	cmd.Stdin = bytes.NewReader(stdin)
	out := &headWriter{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	// The program runs in a process group of its own, and a timeout
	// kills the whole group: a script's children (the CLI it calls) must
	// not run on beside the retry.
	killGroup(cmd)
	// A program that leaves a child holding its output open must not hold
	// the worker once it is killed, or once it has exited.
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if err == nil || errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState != nil && cmd.ProcessState.Success() {
		return false, nil
	}
	op := fmt.Sprintf("running %s for %s", r.cfg.Path, event)
	if ctx.Err() != nil {
		return true, fmt.Errorf("%s: %w", op, ctx.Err())
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode() == ExitTempFail, fmt.Errorf("%s: exit status %d: %s", op, exit.ExitCode(), httpx.Clip(out.String()))
	}
	return false, fmt.Errorf("%s: %w", op, err)
}

// headWriter keeps the first max bytes written to it and counts the rest
// as written: only the start of a program's output goes into an error, and
// a program that prints without end must not fill atod's memory.
type headWriter struct {
	max int
	buf []byte
}

func (w *headWriter) Write(p []byte) (int, error) {
	if room := w.max - len(w.buf); room > 0 {
		w.buf = append(w.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (w *headWriter) String() string { return string(w.buf) }
