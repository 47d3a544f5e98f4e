package secretfile

import (
	"os"
	"syscall"
)

// stReadOnly is statfs's ST_RDONLY flag.
const stReadOnly = 0x1

// readOnlyMount reports whether f is on a file system mounted read-only,
// as Kubernetes mounts Secret volumes (mode 0644 unless defaultMode says
// otherwise): its permissions cannot be changed there, and who may read
// it is the mount's affair, inside the container.
func readOnlyMount(f *os.File) bool {
	var st syscall.Statfs_t
	if err := syscall.Fstatfs(int(f.Fd()), &st); err != nil {
		return false
	}
	return st.Flags&stReadOnly != 0
}
