// Command mkgeoip writes atod's GeoIP test databases (City, ASN and
// Anonymous-IP, in MaxMind DB format) from the made-up world of package
// geotest, so that tests and benchmarks never need MaxMind's real files:
//
//	go run ./cmd/mkgeoip -out testdata/geoip             # the checked-in files
//	go run ./cmd/mkgeoip -out /tmp/geoip -filler 2000000 # benchmark size
//
// The output is byte-for-byte the same on every run.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/atod-project/atod/enrich/geotest"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkgeoip:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("mkgeoip", flag.ContinueOnError)
	out := fs.String("out", "testdata/geoip", "directory to write the databases into")
	filler := fs.Int("filler", 0, fmt.Sprintf("extra made-up networks per database, 0..%d", geotest.MaxFiller))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if err := geotest.WriteFiles(*out, geotest.Options{Filler: *filler}); err != nil {
		return err
	}
	for _, name := range []string{geotest.CityFile, geotest.ASNFile, geotest.AnonymousIPFile} {
		path := filepath.Join(*out, name)
		st, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("checking output: %w", err)
		}
		fmt.Fprintf(os.Stderr, "wrote %s (%d bytes)\n", path, st.Size())
	}
	return nil
}
