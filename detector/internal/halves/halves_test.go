package halves

import (
	"sync/atomic"
	"testing"
)

// Every index is visited once, in two ranges at once from min on.
func TestDoVisitsEachIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 8, 9, 1000} {
		seen := make([]int32, n)
		var calls atomic.Int32
		Do(n, 8, func(lo, hi int) {
			calls.Add(1)
			for i := lo; i < hi; i++ {
				seen[i]++ // the race detector sees overlapping ranges
			}
		})
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("n=%d: index %d visited %d times", n, i, c)
			}
		}
		want := int32(1)
		if n >= 8 {
			want = 2
		}
		if calls.Load() != want {
			t.Fatalf("n=%d: %d calls, want %d", n, calls.Load(), want)
		}
	}
}
