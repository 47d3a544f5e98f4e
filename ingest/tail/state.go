package tail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// fingerprintLen is how much of a file's start identifies it besides its
// inode: inode numbers are reused once a rotated file is deleted.
const fingerprintLen = 256

// position is where reading stopped: the file (device, inode and the hash
// of its first bytes) and the offset of the first byte not yet handled.
type position struct {
	Path   string `json:"path"`
	Dev    uint64 `json:"dev"`
	Ino    uint64 `json:"ino"`
	Offset int64  `json:"offset"`
	// HeadLen bytes at the file's start hash to Head (hex SHA-256).
	HeadLen int    `json:"head_len"`
	Head    string `json:"head"`
}

// identity returns the device and inode of an open file or a path.
func identity(fi os.FileInfo) (dev, ino uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return uint64(st.Dev), st.Ino, true //nolint:unconvert // Dev is uint64 on some platforms only
}

// fingerprint hashes up to fingerprintLen bytes of f's start.
func fingerprint(f io.ReaderAt) (n int, sum string, err error) {
	buf := make([]byte, fingerprintLen)
	n, err = f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, "", err
	}
	h := sha256.Sum256(buf[:n])
	return n, hex.EncodeToString(h[:]), nil
}

// matches reports whether f is the file pos was saved for. A file that
// has grown since has more head bytes; only the saved length is compared.
func (pos *position) matches(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	dev, ino, ok := identity(fi)
	if !ok || dev != pos.Dev || ino != pos.Ino {
		return false
	}
	buf := make([]byte, pos.HeadLen)
	n, err := f.ReadAt(buf, 0)
	if n < pos.HeadLen || (err != nil && !errors.Is(err, io.EOF)) {
		return false // truncated below the fingerprint: another file now
	}
	h := sha256.Sum256(buf)
	return hex.EncodeToString(h[:]) == pos.Head
}

// loadPosition reads a saved position; a missing file is no position.
func loadPosition(path string) (*position, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading position file %s: %w", path, err)
	}
	pos, err := decodePosition(b)
	if err != nil {
		return nil, fmt.Errorf("position file %s: %w", path, err)
	}
	return pos, nil
}

// decodePosition reads what encodePosition wrote. Anything else is an
// error, not a guess: a head length out of range would make matches
// panic, and a head that is no hash would never match and so reread the
// whole file.
func decodePosition(b []byte) (*position, error) {
	var pos position
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pos); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one position")
	}
	if pos.Offset < 0 {
		return nil, fmt.Errorf("offset: %d is negative", pos.Offset)
	}
	if pos.HeadLen < 0 || pos.HeadLen > fingerprintLen {
		return nil, fmt.Errorf("head_len: %d is not within 0 to %d", pos.HeadLen, fingerprintLen)
	}
	if sum, err := hex.DecodeString(pos.Head); err != nil || len(sum) != sha256.Size || hex.EncodeToString(sum) != pos.Head {
		return nil, errors.New("head: not a SHA-256 in lower-case hex")
	}
	return &pos, nil
}

// encodePosition returns the content of a position file.
func encodePosition(pos *position) ([]byte, error) {
	b, err := json.Marshal(pos)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// savePosition writes pos atomically: a crash leaves the old position or
// the new one, never half of either.
func savePosition(path string, pos *position) error {
	b, err := encodePosition(pos)
	if err != nil {
		return fmt.Errorf("encoding position: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("saving position: %w", err)
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("saving position to %s: %w", path, err)
	}
	return nil
}
