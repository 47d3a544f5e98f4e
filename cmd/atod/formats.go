package main

import (
	"fmt"
	"strings"

	"github.com/atod-project/atod/ingest"
	"github.com/atod-project/atod/ingest/dovecot"
	"github.com/atod-project/atod/ingest/entra"
	"github.com/atod-project/atod/ingest/google"
	"github.com/atod-project/atod/ingest/m365"
	"github.com/atod-project/atod/ingest/okta"
	"github.com/atod-project/atod/ingest/postfix"
	"github.com/atod-project/atod/ingest/syslog"
)

// autoFormat is the --format value that detects each record's format.
const autoFormat = "auto"

// formats lists the log formats atod reads besides its canonical JSON, in
// the order auto-detection asks them: more specific first. A format added
// here is in --format, auto-detection and --help.
func formats() []ingest.Format { return formatsWith(syslog.Options{}) }

// formatsWith is formats with the syslog section's time zone and year.
func formatsWith(o syslog.Options) []ingest.Format {
	return []ingest.Format{
		entra.Format(),
		m365.Format(),
		google.Format(),
		okta.Format(),
		dovecot.Format(o), postfix.Format(o), syslog.NewCatchAll("syslog", "a system log whatever its programs: Dovecot's and Postfix's lines decoded, other programs' skipped and counted", o, dovecot.NewProgram, postfix.NewProgram),
	}
}

// inputFormats returns what --format name reads: for "auto", every format
// with canonical last, so that a record no other format claims is read
// canonically and, if it is not canonical either, dead-lettered with
// canonical's reason; otherwise the named format alone.
func inputFormats(name string, o syslog.Options) ([]ingest.Format, error) {
	all := append(formatsWith(o), ingest.Canonical)
	if name == autoFormat || name == "" {
		return all, nil
	}
	for _, f := range all {
		if f.Name == name {
			return []ingest.Format{f}, nil
		}
	}
	return nil, fmt.Errorf("--format: unknown format %q (one of %s)", name, strings.Join(formatNames(), ", "))
}

// formatNames lists the values of --format.
func formatNames() []string {
	names := []string{autoFormat}
	for _, f := range append(formats(), ingest.Canonical) {
		names = append(names, f.Name)
	}
	return names
}

// formatHelp describes the formats for a command's usage text.
func formatHelp() string {
	var b strings.Builder
	b.WriteString("Formats (--format):\n  auto       detect each record's format (and each CSV file's by its header)\n")
	for _, f := range append(formats(), ingest.Canonical) {
		fmt.Fprintf(&b, "  %-10s %s\n", f.Name, f.Description)
	}
	return b.String()
}
