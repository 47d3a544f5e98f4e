package main

import (
	"flag"
)

// parseInterspersed parses flags that may come before, between or after the
// file arguments ("atod replay a.jsonl --out x"), which the flag package
// alone does not allow. "--" ends flag parsing; "-" alone is stdin.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		// fs.Parse stops at the first non-flag or after "--".
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(files, rest...), nil
		}
		if len(rest) == 0 {
			return files, nil
		}
		files = append(files, rest[0])
		args = rest[1:]
	}
}
