package tail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.uber.org/zap"
)

// follower is the state of one Follow call.
type follower struct {
	cfg    Config
	log    *zap.Logger
	handle func([]byte) error

	file     *os.File
	rotated  bool   // file is a rotated one being finished; Path comes next
	offset   int64  // first byte of file not yet handled
	pending  []byte // the start of the line being read (up to MaxLine)
	carried  int64  // bytes of that line read so far
	skipping bool   // dropping the rest of an over-long line
	head     position
	polled   bool // waited for the file to grow: check it before reading on
	// finished are the rotated files read to their end, so that going
	// from one to the next never comes back to one.
	finished []os.FileInfo

	dirty     bool
	lastSaved time.Time
	readBuf   []byte
}

func (f *follower) close() {
	if f.file != nil {
		f.file.Close()
	}
}

// start makes file the one being read, from offset.
func (f *follower) start(file *os.File, offset int64, rotated bool) error {
	if f.file != nil && f.file != file {
		f.file.Close()
	}
	if _, err := file.Seek(offset, io.SeekStart); err != nil {
		file.Close()
		return fmt.Errorf("seeking in %s: %w", file.Name(), err)
	}
	f.file, f.offset, f.rotated = file, offset, rotated
	f.pending, f.carried, f.skipping = f.pending[:0], 0, false
	f.dirty = true
	return f.identify()
}

// identify records the identity of the open file for the position.
func (f *follower) identify() error {
	fi, err := f.file.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", f.file.Name(), err)
	}
	dev, ino, _ := identity(fi)
	n, sum, err := fingerprint(f.file)
	if err != nil {
		return fmt.Errorf("reading the start of %s: %w", f.file.Name(), err)
	}
	f.head = position{Path: f.cfg.Path, Dev: dev, Ino: ino, HeadLen: n, Head: sum}
	return nil
}

func (f *follower) run(ctx context.Context) (err error) {
	defer func() {
		if serr := f.save(true); serr != nil {
			err = errors.Join(err, serr)
		}
	}()
	f.readBuf = make([]byte, 64<<10)
	for {
		if ctx.Err() != nil {
			return nil
		}
		if f.file == nil {
			if err := f.openCurrent(); err != nil {
				return err
			}
		}
		if f.file != nil && f.polled {
			// After a wait the file may have been truncated and refilled
			// past the offset (copytruncate): reading on from the offset
			// would hand on the middle of a new line, and then, when
			// the head no longer matched, everything again.
			f.polled = false
			if truncated, err := f.truncated(); err != nil {
				return err
			} else if truncated {
				continue
			}
		}
		if f.file != nil {
			n, err := f.file.Read(f.readBuf)
			if n > 0 {
				if err := f.consume(f.readBuf[:n]); err != nil {
					return err
				}
				if err := f.save(false); err != nil {
					return err
				}
				continue
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("reading %s: %w", f.file.Name(), err)
			}
			switched, err := f.atEOF()
			if err != nil {
				return err
			}
			if switched {
				continue
			}
		}
		if err := f.save(true); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(f.cfg.Poll):
		}
		f.polled = true
	}
}

// openCurrent opens Path from its start once it exists.
func (f *follower) openCurrent() error {
	file, err := openLog(f.cfg.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening %s: %w", f.cfg.Path, err)
	}
	return f.start(file, 0, false)
}

// atEOF checks, when the file has nothing more, whether it was rotated or
// truncated, and switches accordingly; switched says it did.
func (f *follower) atEOF() (switched bool, err error) {
	if f.rotated { // finished the rotated file: on to the next one
		if err := f.flushPartial(); err != nil {
			return false, err
		}
		done, _ := f.file.Stat()
		f.file.Close()
		f.file = nil
		if done != nil {
			f.finished = append(f.finished, done)
			if len(f.finished) > 16 { // a rotation a day: no need to remember years
				f.finished = f.finished[1:]
			}
		}
		// Rotated more than once while atod was away: the files rotated
		// after this one come first, oldest first, then the current one.
		if next := nextRotated(f.cfg.Path, done, f.finished); next != nil {
			f.log.Info("going on with the next rotated file", zap.String("rotated", next.Name()))
			return true, f.start(next, 0, true)
		}
		return true, f.openCurrent()
	}
	fi, err := f.file.Stat()
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", f.file.Name(), err)
	}
	if truncated, err := f.truncatedAs(fi); err != nil || truncated {
		return truncated, err
	}
	now, err := os.Stat(f.cfg.Path)
	if err != nil {
		return false, nil // being recreated: keep the old file for now
	}
	if os.SameFile(fi, now) {
		return false, nil
	}
	// Rotated: what the writer appended before it reopened is still in
	// the old file; read it to its end, then switch.
	f.log.Info("file rotated; finishing the old one")
	f.rotated = true
	return true, nil
}

// truncated checks the open file for a copytruncate and, when it was,
// starts it again from the beginning.
func (f *follower) truncated() (bool, error) {
	fi, err := f.file.Stat()
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", f.file.Name(), err)
	}
	return f.truncatedAs(fi)
}

// truncatedAs is truncated with the file's stat at hand. copytruncate:
// the file shrank, or was refilled past our offset before we looked,
// which its changed first bytes betray.
func (f *follower) truncatedAs(fi os.FileInfo) (bool, error) {
	if fi.Size() < f.offset+f.carried || !f.sameHead() {
		f.log.Info("file truncated; reading it from the start", zap.Int64("size", fi.Size()), zap.Int64("offset", f.offset))
		return true, f.start(f.file, 0, false)
	}
	return false, nil
}

// sameHead reports whether the open file still starts as it did.
func (f *follower) sameHead() bool {
	pos := f.head
	return pos.matches(f.file)
}

// consume hands each complete line of data (after what is carried over
// from earlier reads) on, advancing the offset past it once accepted.
func (f *follower) consume(data []byte) error {
	for len(data) > 0 {
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			return f.carry(data)
		}
		part := data[:nl]
		data = data[nl+1:]
		line := part
		switch {
		case f.skipping: // an over-long line's end: its first MaxLine bytes
			line = f.pending
		case len(f.pending) > 0:
			f.pending = append(f.pending, part...)
			line = f.pending
		}
		if len(line) > f.cfg.MaxLine {
			line = line[:f.cfg.MaxLine]
		}
		if err := f.handle(bytes.TrimSuffix(line, []byte{'\r'})); err != nil {
			return err
		}
		f.offset += f.carried + int64(nl) + 1
		f.carried, f.pending, f.skipping = 0, f.pending[:0], false
		f.dirty = true
	}
	return nil
}

// carry keeps the start of a line whose end has not been written yet. An
// over-long line is handed on cut to MaxLine at once, and the rest of it
// dropped, so that memory stays bounded.
//
// A line longer than MaxLine keeps its first MaxLine bytes and is handed
// on, cut, only once its end arrives: handed on earlier, a stop before its
// end left the offset at its start, and the next run handed it on again.
func (f *follower) carry(data []byte) error {
	f.carried += int64(len(data))
	if f.skipping {
		return nil
	}
	f.pending = append(f.pending, data...)
	if len(f.pending) > f.cfg.MaxLine {
		f.pending, f.skipping = f.pending[:f.cfg.MaxLine], true
	}
	return nil
}

// flushPartial hands on the unterminated last line of a file that will
// not grow any more (a rotated one).
func (f *follower) flushPartial() error {
	if len(f.pending) > 0 {
		if err := f.handle(bytes.TrimSuffix(f.pending, []byte{'\r'})); err != nil {
			return err
		}
	}
	f.offset += f.carried
	f.carried, f.pending, f.skipping = 0, f.pending[:0], false
	f.dirty = true
	return nil
}

// save writes the position when it changed and force is set or
// SaveEvery has passed since the last save.
func (f *follower) save(force bool) error {
	if !f.dirty || f.file == nil || (!force && time.Since(f.lastSaved) < f.cfg.SaveEvery) {
		return nil
	}
	f.dirty = false
	// The head is what tells a truncated and refilled file from the one
	// opened, with or without a position file: taken again while the file
	// is shorter than a fingerprint (empty when opened, say).
	if f.head.HeadLen < fingerprintLen { // the file has grown since it was opened
		if n, sum, err := fingerprint(f.file); err == nil {
			f.head.HeadLen, f.head.Head = n, sum
		}
	}
	if f.cfg.PositionFile == "" {
		return nil
	}
	pos := f.head
	pos.Offset = f.offset
	f.lastSaved = time.Now()
	return savePosition(f.cfg.PositionFile, &pos)
}
