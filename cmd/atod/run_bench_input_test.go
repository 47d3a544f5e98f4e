package main

import (
	"testing"
	"time"

	"github.com/atod-project/atod/ingest"
)

// Every event BenchmarkRunThroughput produces parses, whatever the number
// of accounts: with more than 64,000 accounts their addresses once had an
// octet above 255, and a third of the events went to the dead-letter
// topic instead of the rules.
func TestLiveBenchEventsParse(t *testing.T) {
	for _, accounts := range []int{20_000, 100_000, 200_000} {
		for i, line := range liveBenchEvents(5_000, accounts, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), 2000) {
			if _, err := ingest.ParseCanonical(line); err != nil {
				t.Fatalf("%d accounts, event %d: %v\n%s", accounts, i, err, line)
			}
		}
	}
	seen := make(map[string]int)
	for u := range 128_000 {
		a := ownAddr(u)
		if v, ok := seen[a]; ok {
			t.Fatalf("accounts %d and %d share %s", v, u, a)
		}
		seen[a] = u
	}
}
