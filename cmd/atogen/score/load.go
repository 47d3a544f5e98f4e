package score

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/atod-project/atod/cmd/atogen/label"
	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest"
)

// Load reads the labels, the alerts ("-" for stdin) and, when eventsPath is
// not empty, the events, into an Input.
func Load(labelsPath, alertsPath, eventsPath string) (*Input, error) {
	in := &Input{}
	err := readFile(labelsPath, func(r io.Reader) (err error) {
		in.Labels, err = label.Read(r)
		return err
	})
	if err == nil {
		err = readFile(alertsPath, func(r io.Reader) (err error) {
			in.Alerts, err = ReadAlerts(r)
			return err
		})
	}
	if err == nil && eventsPath != "" {
		err = readFile(eventsPath, func(r io.Reader) (err error) {
			in.AddrUsers, err = ReadAddrUsers(r)
			return err
		})
	}
	return in, err
}

func readFile(path string, read func(io.Reader) error) error {
	if path == "-" {
		return read(os.Stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := read(f); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

// ReadAlerts parses alert lines. Lines that are not alerts are an error, so
// a report is never computed from a truncated or mixed-up file.
func ReadAlerts(r io.Reader) ([]detector.Alert, error) {
	var out []detector.Alert
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var a detector.Alert
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if a.Rule == "" || a.Time.IsZero() {
			return nil, fmt.Errorf("line %d: not an alert (no rule or time)", n)
		}
		out = append(out, a)
	}
	return out, sc.Err()
}

// ReadAddrUsers maps each address in the events to the (lower-case) users
// seen there, in order of first appearance.
func ReadAddrUsers(r io.Reader) (map[string][]string, error) {
	out := map[string][]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		e, err := ingest.ParseCanonical(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if !e.IP.IsValid() {
			continue
		}
		ip := e.IP.String()
		if !slices.Contains(out[ip], e.User) {
			out[ip] = append(out[ip], e.User)
		}
	}
	return out, sc.Err()
}
