// Package tail follows a growing log file, as "tail -F" does, for small
// installations that have no Kafka: it reads lines as they are appended,
// goes on with the new file when the log is rotated (renamed and
// recreated) and from the start when it is truncated (copytruncate), and
// saves its position so that a restart resumes where the last run stopped,
// even when the file was rotated in between.
//
// A position is saved only for lines the handler has accepted, at most
// Config.SaveEvery apart and on every return; after a clean stop nothing
// is read twice or skipped, after a crash at most SaveEvery's worth of
// lines is read again.
package tail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

// Defaults of Config.
const (
	DefaultPoll      = 250 * time.Millisecond
	DefaultSaveEvery = time.Second
	DefaultMaxLine   = 1 << 20
)

// Config says which file to follow and where to keep the position.
type Config struct {
	// Path is the log file, e.g. /var/log/mail.log.
	Path string
	// PositionFile keeps the position across restarts; "" keeps none.
	PositionFile string
	// FromStart makes a run without a saved position read the file from
	// its start; by default it begins at the end, as tail -f does.
	FromStart bool
	// Poll is how often the file is checked for new lines, rotation and
	// truncation when it has nothing new; 0 means DefaultPoll.
	Poll time.Duration
	// SaveEvery is how often the position is saved while lines flow; 0
	// means DefaultSaveEvery.
	SaveEvery time.Duration
	// MaxLine bounds a line; longer lines are cut to it. 0 means
	// DefaultMaxLine.
	MaxLine int
	// MaxFuture is how far ahead of the clock an event's time may be; the
	// line that brought a later one is dead-lettered (see kafka.max_future
	// for why). 0 turns the check off.
	MaxFuture time.Duration
	// Log receives rotation and resume notices; nil means none.
	Log *zap.Logger
}

// Validate reports a config that cannot work.
func (c *Config) Validate() error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, errors.New("tail.path: is required"))
	}
	if c.Poll < 0 || c.SaveEvery < 0 || c.MaxLine < 0 {
		errs = append(errs, errors.New("tail: poll, save_every and max_line must not be negative"))
	}
	return errors.Join(errs...)
}

// Follow calls handle with each line of the file (without its line
// ending), in order, until ctx is cancelled, which returns nil after the
// position of the last accepted line has been saved. An error from handle
// stops Follow, which returns it; the line is then not counted as read.
// handle must not keep the line.
func Follow(ctx context.Context, cfg Config, handle func(line []byte) error) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Poll == 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.SaveEvery == 0 {
		cfg.SaveEvery = DefaultSaveEvery
	}
	if cfg.MaxLine == 0 {
		cfg.MaxLine = DefaultMaxLine
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	f := &follower{cfg: cfg, log: cfg.Log.With(zap.String("path", cfg.Path)), handle: handle}
	defer f.close()
	if err := f.resume(); err != nil {
		return err
	}
	return f.run(ctx)
}

// resume opens the file where the saved position says, or where
// FromStart says when there is none.
func (f *follower) resume() error {
	var pos *position
	if f.cfg.PositionFile != "" {
		var err error
		if pos, err = loadPosition(f.cfg.PositionFile); err != nil {
			return err
		}
	}
	cur, err := openLog(f.cfg.Path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("opening %s: %w", f.cfg.Path, err)
	}
	switch {
	case pos != nil && cur != nil && pos.matches(cur):
		return f.start(cur, pos.Offset, false)
	case pos != nil:
		// The file was rotated while we were away: finish the old one
		// first, if it is still there under a rotated name.
		if old := findRotated(f.cfg.Path, pos); old != nil {
			f.log.Info("resuming in the rotated file", zap.String("rotated", old.Name()), zap.Int64("offset", pos.Offset))
			if cur != nil {
				cur.Close()
			}
			return f.start(old, pos.Offset, true)
		}
		f.log.Warn("the file at the saved position is gone; reading the current file from its start")
		if cur != nil {
			return f.start(cur, 0, false)
		}
	case cur != nil && !f.cfg.FromStart:
		end, err := cur.Seek(0, io.SeekEnd)
		if err != nil {
			cur.Close()
			return fmt.Errorf("seeking to the end of %s: %w", f.cfg.Path, err)
		}
		return f.start(cur, end, false)
	case cur != nil:
		return f.start(cur, 0, false)
	}
	return nil // no file yet: run waits for it
}

// rotatedNames lists the names logrotate gives path's rotated files
// (path.1, path-20260302) that can be read: compressed ones cannot.
func rotatedNames(path string) []string {
	var names []string
	for _, pattern := range []string{path + ".*", path + "-*"} {
		m, _ := filepath.Glob(pattern)
		for _, name := range m {
			if !strings.HasSuffix(name, ".gz") && !strings.HasSuffix(name, ".xz") &&
				!strings.HasSuffix(name, ".bz2") && !strings.HasSuffix(name, ".zst") {
				names = append(names, name)
			}
		}
	}
	return names
}

// nextRotated opens the oldest rotated file of path that was written to
// no earlier than done and is neither a file finished (finished) nor the
// current one; nil when there is none. Age is the modification time, and
// for equal times the name: path.2 before path.1, path-20260301 before
// path-20260302.
func nextRotated(path string, done os.FileInfo, finished []os.FileInfo) *os.File {
	if done == nil {
		return nil
	}
	cur, _ := os.Stat(path)
	var best os.FileInfo
	var bestName string
	for _, name := range rotatedNames(path) {
		fi, err := os.Stat(name)
		if err != nil || !fi.Mode().IsRegular() || (cur != nil && os.SameFile(fi, cur)) || fi.ModTime().Before(done.ModTime()) ||
			slices.ContainsFunc(finished, func(f os.FileInfo) bool { return os.SameFile(f, fi) }) {
			continue
		}
		if best == nil || fi.ModTime().Before(best.ModTime()) ||
			(fi.ModTime().Equal(best.ModTime()) && olderName(name, bestName)) {
			best, bestName = fi, name
		}
	}
	if best == nil {
		return nil
	}
	f, err := openLog(bestName)
	if err != nil {
		return nil
	}
	return f
}

// olderName orders two rotated names of one log by age: a larger number
// is older (logrotate's path.2 before path.1), other suffixes sort as
// text (dates).
func olderName(a, b string) bool {
	na, erra := strconv.Atoi(a[strings.LastIndexByte(a, '.')+1:])
	nb, errb := strconv.Atoi(b[strings.LastIndexByte(b, '.')+1:])
	if erra == nil && errb == nil {
		return na > nb
	}
	return a < b
}

// findRotated looks for the file pos was saved in under the names
// logrotate gives (path.1, path-20260302); compressed ones cannot be
// resumed.
func findRotated(path string, pos *position) *os.File {
	for _, name := range rotatedNames(path) {
		f, err := openLog(name)
		if err != nil {
			continue
		}
		if pos.matches(f) {
			return f
		}
		f.Close()
	}
	return nil
}

// openLog opens a log file for reading, refusing anything but a regular
// file: opening a FIFO without a writer blocks in the open call itself,
// where no cancel reaches, and a device or socket is no log to follow. A
// symbolic link is followed, as tail -F does.
func openLog(path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, st.Mode().Type())
	}
	return os.Open(path)
}
