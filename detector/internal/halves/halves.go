// Package halves runs a loop over independent items in two halves at once.
//
// The detector's goroutine bounds both replay and live mode: the rules run
// there, in event order. Parts of its work on a batch are independent per
// state (a Redis value's decoding and encoding, a memory store's lookups),
// and the machine's other core often has time to spare while that goroutine
// works, so those parts are split between it and a helper.
package halves

// Do calls do over [0, n): with n of at least min, do(n/2, n) on a
// goroutine of its own while the caller runs do(0, n/2), and returns when
// both are done; below min it calls do(0, n) alone, where a batch is too
// small for the goroutine's start to pay. do must be safe to run on the
// two disjoint ranges at once.
func Do(n, min int, do func(lo, hi int)) {
	if n < min || n < 2 {
		do(0, n)
		return
	}
	mid := n / 2
	done := make(chan struct{})
	go func() {
		defer close(done)
		do(mid, n)
	}()
	do(0, mid)
	<-done
}
