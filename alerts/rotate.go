package alerts

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// RotatingFile is an append-only file that is renamed to path.1 (path.1 to
// path.2, and so on) once it would grow past MaxBytes, keeping MaxBackups
// old files. Writes are whole lines from one caller at a time, so a line
// never straddles two files. It suits alert and audit logs that must not
// fill a disk when nobody ships them elsewhere.
type RotatingFile struct {
	path       string
	maxBytes   int64
	maxBackups int

	mu     sync.Mutex
	f      *os.File // nil after a failed rotation, until opened again
	size   int64
	torn   bool // the file ends in a fragment of a line that could not be cut off
	closed bool
}

// OpenRotating opens (appending) or creates path. maxBytes 0 never rotates.
func OpenRotating(path string, maxBytes int64, maxBackups int) (*RotatingFile, error) {
	r := &RotatingFile{path: path, maxBytes: maxBytes, maxBackups: max(maxBackups, 0)}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *RotatingFile) open() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("opening %s: %w", r.path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("reading size of %s: %w", r.path, err)
	}
	r.f, r.size = f, st.Size()
	return nil
}

// Write appends p, rotating first when p would take the file past its
// limit (a file holds at least one write, however long).
//
// A rotation that fails costs a larger file, not the line: the file is
// opened again and written, and rotation is tried again at the next write.
// A write cut short (a full disk) is cut off again, so that the next line
// does not join the fragment.
func (r *RotatingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, errors.New("write to closed " + r.path)
	}
	if r.f != nil && r.maxBytes > 0 && r.size > 0 && r.size+int64(len(p)) > r.maxBytes {
		r.rotate() //nolint:errcheck // the file is opened again below; rotation is tried at the next write
	}
	if r.f == nil {
		if err := r.open(); err != nil {
			return 0, err
		}
	}
	if r.torn {
		if _, err := r.f.Write([]byte{'\n'}); err != nil {
			return 0, fmt.Errorf("writing %s: %w", r.path, err)
		}
		r.size++
		r.torn = false
	}
	n, err := r.f.Write(p)
	if err != nil {
		if n > 0 {
			if terr := r.f.Truncate(r.size); terr != nil {
				r.size += int64(n)
				r.torn = true
			}
		}
		return 0, fmt.Errorf("writing %s: %w", r.path, err)
	}
	r.size += int64(n)
	return n, nil
}

func (r *RotatingFile) rotate() error {
	err := r.f.Close()
	r.f = nil // closed even when Close reports an error
	if err != nil {
		return fmt.Errorf("closing %s: %w", r.path, err)
	}
	if r.maxBackups == 0 {
		if err := os.Remove(r.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rotating %s: %w", r.path, err)
		}
		return r.open()
	}
	for i := r.maxBackups - 1; i >= 1; i-- {
		from := fmt.Sprintf("%s.%d", r.path, i)
		if err := os.Rename(from, fmt.Sprintf("%s.%d", r.path, i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rotating %s: %w", from, err)
		}
	}
	if err := os.Rename(r.path, r.path+".1"); err != nil {
		return fmt.Errorf("rotating %s: %w", r.path, err)
	}
	return r.open()
}

// Close closes the file.
func (r *RotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
