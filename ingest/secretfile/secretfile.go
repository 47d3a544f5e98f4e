// Package secretfile reads the files that hold atod's secrets (passwords,
// tokens, the pseudonym key, private keys), refusing one that every user
// of the machine may read: whoever can read the pseudonym key can undo
// the pseudonyms of every Redis key, and a token or password is the
// account it opens. ssh treats private keys the same way. A file readable
// by its group stays allowed (a secret shared with an operators' group, or
// mounted with a pod's fsGroup), and so does one on a read-only mount,
// where permissions cannot be changed (a Kubernetes Secret volume).
//
// It sits beside the Kafka consumer, like tlsfiles, so that every part of
// atod (ingest, detector, alerts, cmd) can use it.
package secretfile

import (
	"fmt"
	"io"
	"os"
	"runtime"
)

// maxSize bounds what Read takes: the largest secret atod reads (a Google
// service account's JSON key) is a few KB.
const maxSize = 1 << 20

// Read returns the content of the file at path; key is its config key,
// such as "redis.pseudonym_key_file", for error messages.
func Read(key, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	// Only regular files have permissions that say who reads them; a
	// pipe (a shell's <(vault read …)) is read as it is.
	if perm := st.Mode().Perm(); st.Mode().IsRegular() && perm&0o004 != 0 && runtime.GOOS != "windows" && !readOnlyMount(f) {
		return nil, fmt.Errorf("%s: %s can be read by every user of this machine (mode %v); make it unreadable to others (chmod o-r)",
			key, path, perm)
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if len(raw) > maxSize {
		return nil, fmt.Errorf("%s: %s is larger than 1 MiB: not a secret atod reads", key, path)
	}
	return raw, nil
}
