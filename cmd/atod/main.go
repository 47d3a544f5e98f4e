// Command atod detects account takeovers in mailbox sign-in logs.
//
//	atod replay [flags] FILE...   run the detectors over log files; alerts to stdout
//	atod events [flags] FILE...   print the parsed, enriched events atod sees
//	atod run --config FILE        live mode: Kafka (or a followed log file) in, Redis state, sinks and hooks out
//	atod version
//
// This is the only package that imports all the others: it wires ingest,
// enrich, detector and alerts together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `atod detects account takeovers in mailbox sign-in logs.

Usage:
  atod replay [--config FILE] [flags] FILE...   detect over log files (or - for stdin, .gz accepted);
                                                alert lines go to stdout, progress to stderr
  atod events [--config FILE] [flags] FILE...   print each parsed, enriched event as a JSON line:
                                                check a new log source, export normalised logs
  atod run --config FILE                        live mode: consume Kafka, detect, publish alerts to Kafka
                                                (docs/kafka.md); or follow a local log file
                                                (a follow: section, docs/mail-servers.md)
  atod version                                  print the version

Run "atod COMMAND --help" for a command's flags. Example:
  atod replay --config testdata/demo/config.yaml testdata/demo/events.jsonl
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: tests call it with their own streams.
// Exit codes: 0 done, 1 failed, 2 bad usage or configuration.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "replay":
		err = replayCmd(ctx, args[1:], stdin, stdout, stderr, false)
	case "events":
		err = replayCmd(ctx, args[1:], stdin, stdout, stderr, true)
	case "run":
		err = runCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "atod %s\n", version)
		return 0
	case "help", "--help", "-help", "-h":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "atod: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "atod: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "atod: %v\n", err)
		return 1
	}
}

// usageError marks errors in the command line or the configuration.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }
