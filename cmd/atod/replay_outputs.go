package main

import (
	"errors"
	"fmt"
	"os"
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
		st, err := os.Stat(p)
		if err != nil {
			continue // not there yet: it is no input
		}
		for _, in := range inputs {
			if in == "-" {
				continue
			}
			if ist, err := os.Stat(in); err == nil && os.SameFile(st, ist) {
				return fmt.Errorf("%s %s is also an input file: writing would empty it before it is read", flag, p)
			}
		}
	}
	if !onStdout(out) && !onStdout(dlq) {
		if a, err := os.Stat(out); err == nil {
			if b, err := os.Stat(dlq); err == nil && os.SameFile(a, b) {
				return fmt.Errorf("--out and --dlq name one file, %s", out)
			}
		} else if out == dlq {
			return fmt.Errorf("--out and --dlq name one file, %s", out)
		}
	}
	return nil
}
