package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// checkOutputs refuses outputs that would destroy input or each other
// before anything is opened: --out or --dlq naming an input file (opening
// an output empties it, and with it the evidence a forensic replay reads),
// --out and --dlq naming one file, and dead letters on stdout beside the
// alert lines, whose lines would interleave mid-line.
func checkOutputs(inputs []string, out, dlq string) error {
	onStdout := func(p string) bool { return p == "" || p == "-" }
	if dlq == "-" && onStdout(out) {
		return errors.New("--dlq -: the alert lines go to stdout already; give --out FILE or --dlq FILE")
	}
	outputs := map[string]string{"--out": out, "--dlq": dlq}
	for flag, p := range outputs {
		if onStdout(p) {
			continue
		}
		for _, in := range inputs {
			if in != "-" && samePath(p, in) {
				return fmt.Errorf("%s %s is also an input file: writing would empty it before it is read", flag, p)
			}
		}
	}
	if !onStdout(out) && !onStdout(dlq) && samePath(out, dlq) {
		return fmt.Errorf("--out and --dlq name one file, %s", out)
	}
	return nil
}

// samePath reports whether a and b name one file: the same file when both
// exist (links, other spellings), else the same cleaned absolute path.
func samePath(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(sa, sb)
	}
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	return errA == nil && errB == nil && absA == absB
}
