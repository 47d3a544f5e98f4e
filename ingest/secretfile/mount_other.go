//go:build !linux

package secretfile

import "os"

func readOnlyMount(*os.File) bool { return false }
