//go:build !unix

package command

import "os/exec"

// killGroup leaves cmd as it is: only the program itself is killed.
func killGroup(*exec.Cmd) {}
