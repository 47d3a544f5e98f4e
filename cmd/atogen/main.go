// Command atogen is atod's evaluation harness: it generates labelled
// synthetic tenants, scores atod's alerts against the labels, and runs a
// naive SIEM rule pack over the same events for comparison.
//
//	atogen tenant -users 2000 -days 7 -seed 1 -out DIR [-disorder 60s]
//	atogen score  -labels DIR/labels.jsonl -alerts alerts.jsonl [-events E] [-json] [-check]
//	atogen naive  -events DIR/events.jsonl > naive.jsonl
//	atogen stream -events 100000000 -users 100000 > events.jsonl
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/atod-project/atod/cmd/atogen/naive"
	"github.com/atod-project/atod/cmd/atogen/score"
	"github.com/atod-project/atod/cmd/atogen/stream"
	"github.com/atod-project/atod/cmd/atogen/synth"
)

const usage = `usage:
  atogen tenant -users N -days D -seed S [-start RFC3339] [-disorder 60s] [-geoip-dir DIR] -out DIR
  atogen score  -labels FILE -alerts FILE [-events FILE] [-json] [-check]
  atogen naive  -events FILE [-out FILE]
  atogen stream -events N [-users U] [-days D] [-seed S]   (unlabelled load, to stdout)
  atogen floor < events.jsonl                             (encoding/json decode rate, the floor)
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "tenant":
		err = runTenant(os.Args[2:])
	case "score":
		err = runScore(os.Args[2:])
	case "naive":
		err = runNaive(os.Args[2:])
	case "stream":
		err = runStream(os.Args[2:])
	case "floor":
		var n int64
		start := time.Now()
		n, err = stream.Floor(os.Stdin)
		fmt.Fprintf(os.Stderr, "floor: %d lines decoded by encoding/json in %s: %.0f lines/s\n", n, time.Since(start).Round(time.Millisecond), float64(n)/time.Since(start).Seconds())
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var exit exitError
	switch {
	case errors.As(err, &exit):
		os.Exit(int(exit))
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "atogen:", err)
		os.Exit(1)
	}
}

// exitError ends the program with a status but no message: the report has
// already said what failed.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func runTenant(args []string) error {
	fs := flag.NewFlagSet("tenant", flag.ContinueOnError)
	users := fs.Int("users", 2000, "number of accounts")
	days := fs.Int("days", 7, "number of days")
	seed := fs.Uint64("seed", 1, "random seed; the same seed gives the same bytes")
	start := fs.String("start", "2026-03-02T00:00:00Z", "first day (RFC 3339)")
	disorder := fs.Duration("disorder", 0, "how late an event may arrive in the file")
	geoipDir := fs.String("geoip-dir", "testdata/geoip", "GeoIP test databases, relative to the repository root")
	out := fs.String("out", "", "output directory")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("tenant: -out is required")
	}
	t0, err := time.Parse(time.RFC3339, *start)
	if err != nil {
		return fmt.Errorf("-start: %w", err)
	}
	tenant, err := synth.Generate(synth.Config{Users: *users, Days: *days, Seed: *seed, Start: t0, Disorder: *disorder})
	if err != nil {
		return err
	}
	dir := *geoipDir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(repoRoot(), dir)
	}
	if err := synth.WriteDir(*out, tenant, dir); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "atogen: %d events, %d attacks, %d noise groups in %s\n",
		len(tenant.Events), len(tenant.Labels.Attacks), len(tenant.Labels.Noise), *out)
	return nil
}

// repoRoot is the nearest directory upwards holding go.mod, or the working
// directory when there is none.
func repoRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			return wd
		}
	}
}

func runScore(args []string) error {
	fs := flag.NewFlagSet("score", flag.ContinueOnError)
	labels := fs.String("labels", "", "labels.jsonl of the tenant")
	alerts := fs.String("alerts", "", "alert lines written by atod (or atogen naive)")
	events := fs.String("events", "", "optional events.jsonl: attributes address-only alerts to the users behind the address")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	check := fs.Bool("check", false, "exit 1 when a target is missed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *labels == "" || *alerts == "" {
		return errors.New("score: -labels and -alerts are required")
	}
	in, err := score.Load(*labels, *alerts, *events)
	if err != nil {
		return err
	}
	r := score.Compute(in)
	if *asJSON {
		err = r.WriteJSON(os.Stdout)
	} else {
		err = r.WriteText(os.Stdout)
	}
	if err != nil {
		return err
	}
	if *check && len(r.Failed) > 0 {
		return exitError(1)
	}
	return nil
}

func runNaive(args []string) (err error) {
	fs := flag.NewFlagSet("naive", flag.ContinueOnError)
	events := fs.String("events", "", "canonical events (JSON lines)")
	out := fs.String("out", "-", "where to write the alerts")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *events == "" {
		return errors.New("naive: -events is required")
	}
	evs, err := naive.ReadEvents(*events)
	if err != nil {
		return fmt.Errorf("reading %s: %w", *events, err)
	}
	var w io.Writer = os.Stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}()
		w = f
	}
	bw := bufio.NewWriter(w)
	if err := naive.WriteAlerts(bw, naive.Run(evs)); err != nil {
		return err
	}
	return bw.Flush()
}

func runStream(args []string) error {
	fs := flag.NewFlagSet("atogen stream", flag.ContinueOnError)
	events := fs.Int64("events", 1_000_000, "number of events")
	users := fs.Int("users", 100_000, "population size")
	days := fs.Int("days", 30, "days of event time the stream covers")
	seed := fs.Uint64("seed", 1, "random seed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return stream.Write(os.Stdout, stream.Config{Events: *events, Users: *users, Seed: *seed,
		Span: time.Duration(*days) * 24 * time.Hour, Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)})
}

// parseFlags parses args and refuses any argument left: the flag package
// stops at the first word that is no flag, and would ignore every flag
// after it.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: every option is a flag", fs.Args())
	}
	return nil
}
