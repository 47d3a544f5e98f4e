package main

import (
	"fmt"
	"time"

	"github.com/atod-project/atod/ingest/syslog"
)

// syslogConfig is the `syslog:` section: what RFC 3164 lines and Dovecot's
// default timestamps leave out.
type syslogConfig struct {
	// TimeZone is the IANA zone of timestamps that carry none, e.g.
	// Europe/Berlin; empty means the machine's local zone.
	TimeZone string `yaml:"time_zone"`
	// Year is the year of the first year-less timestamp of each file or
	// stream; 0 infers it from the clock. Set it when replaying an archived
	// log, so the replay does not depend on today's date.
	Year int `yaml:"year"`
}

func (c *syslogConfig) validate() error {
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		return fmt.Errorf("syslog.time_zone: %q is not a time zone: %w", c.TimeZone, err)
	}
	if c.Year != 0 && (c.Year < 1970 || c.Year > 2200) {
		return fmt.Errorf("syslog.year: %d is not between 1970 and 2200", c.Year)
	}
	return nil
}

// options are the parser options; validate has run.
func (c *syslogConfig) options() syslog.Options {
	var o syslog.Options
	if c.TimeZone != "" {
		o.Location, _ = time.LoadLocation(c.TimeZone)
	}
	o.Year = c.Year
	return o
}
