package alerts

import (
	"path/filepath"
	"testing"
)

// A Close error during rotation (EIO, a quota on NFS) does not leave the
// sink writing to a closed file until restart.
func TestRotateCloseErrorKeepsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	r, err := OpenRotating(path, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Write([]byte("first line\n")); err != nil {
		t.Fatal(err)
	}
	r.f.Close()                      // the next rotation's Close now fails, as a close(2) error would make it
	r.Write([]byte("second line\n")) // may fail: the rotation failed
	for i := range 3 {
		if _, err := r.Write([]byte("third line\n")); err != nil {
			t.Fatalf("write %d after one failed close: %v (the sink never recovers)", i, err)
		}
	}
}
