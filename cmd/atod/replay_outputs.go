package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// checkOutputs refuses outputs that would destroy input or each other
// before anything is opened: --out or --dlq naming an input file (opening
// an output empties it, and with it the evidence a forensic replay reads),
// --out and --dlq naming one file, and dead letters on stdout beside the
// alert lines, whose lines would interleave mid-line.
func checkOutputs(inputs []string, out, dlq string) error {
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

// checkInputs refuses inputs that cannot be read before any output is
// touched: a mistyped name must not cost an earlier replay's alerts. Only
// regular files are opened here; a named pipe would hand its start to this
// check.
func checkInputs(inputs []string) error {
	for _, in := range inputs {
		if in == "-" {
			continue
		}
		st, err := os.Stat(in)
		if err == nil && st.IsDir() {
			err = fmt.Errorf("%s is a directory", in)
		}
		if err == nil && st.Mode().IsRegular() {
			var f *os.File
			if f, err = os.Open(in); err == nil {
				err = f.Close()
			}
		}
		if err != nil {
			return fmt.Errorf("input: %w", err)
		}
	}
	return nil
}

// onStdout reports whether an output path means stdout: empty or "-".
func onStdout(path string) bool { return path == "" || path == "-" }

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

// outputs are replay's --out and --dlq. They are opened before the replay
// is set up, so that a path that cannot be written stops it at once, but
// emptied only once the replay is about to run: a replay that fails to
// start leaves the outputs of an earlier one as they were, and a file it
// created itself is removed again.
type outputs struct {
	out, dlq io.Writer // dlq nil without --dlq
	files    []outputFile
	writers  []*bufio.Writer
}

type outputFile struct {
	f       *os.File
	created bool // did not exist before
}

// openOutputs opens --out (stdout when it is empty or "-") and --dlq
// (none when empty; stdout for "-") without emptying them.
func openOutputs(outPath, dlqPath string, stdout io.Writer) (*outputs, error) {
	if stdout == nil {
		stdout = os.Stdout
	}
	o := &outputs{}
	open := func(flag, path string) (io.Writer, error) {
		w := stdout
		if !onStdout(path) {
			_, statErr := os.Stat(path)
			// 0640, as the sinks' files: alerts and raw dead letters
			// (accounts, addresses, even typed passwords) are personal data.
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o640)
			if err != nil {
				return nil, fmt.Errorf("opening %s: %w", flag, err)
			}
			o.files = append(o.files, outputFile{f: f, created: errors.Is(statErr, fs.ErrNotExist)})
			w = f
		}
		bw := bufio.NewWriterSize(w, 64<<10)
		o.writers = append(o.writers, bw)
		return bw, nil
	}
	var err error
	if o.out, err = open("--out", outPath); err == nil && dlqPath != "" {
		o.dlq, err = open("--dlq", dlqPath)
	}
	if err != nil {
		return nil, errors.Join(err, o.abandon())
	}
	return o, nil
}

// empty empties the outputs that are regular files, for the replay to
// write. Others (/dev/null, a pipe) have nothing to empty.
func (o *outputs) empty() error {
	for _, of := range o.files {
		st, err := of.f.Stat()
		if err == nil && st.Mode().IsRegular() && st.Size() > 0 {
			err = of.f.Truncate(0)
		}
		if err != nil {
			return fmt.Errorf("emptying %s: %w", of.f.Name(), err)
		}
	}
	return nil
}

// abandon closes the outputs unwritten and removes those it created.
func (o *outputs) abandon() error {
	var errs []error
	for _, of := range o.files {
		errs = append(errs, of.f.Close())
		if of.created {
			errs = append(errs, os.Remove(of.f.Name()))
		}
	}
	o.files, o.writers = nil, nil
	return errors.Join(errs...)
}

// close flushes the outputs and closes their files.
func (o *outputs) close() error {
	var errs []error
	for _, w := range o.writers {
		errs = append(errs, w.Flush())
	}
	for _, of := range o.files {
		errs = append(errs, of.f.Close())
	}
	o.files, o.writers = nil, nil
	return errors.Join(errs...)
}
