package detector

// warmAhead is how many events' states warm reads at once: enough for
// their cache misses to overlap, few enough that what it reads is still
// cached when the rules get to it.
const warmAhead = 32

// warm reads the lists the rules scan for the events refs[lo:hi] refer to,
// in a loop of reads that do not wait for each other. Each list is an
// allocation of its own somewhere on the heap, so the rules, which look at
// one list after another and decide as they go, would otherwise wait for
// each miss in turn; here the misses overlap.
func (e *Engine) warm(lo, hi int) {
	var sum uint64
	for _, r := range e.refs[lo:hi] {
		u := e.users[r.user]
		for i := range u.Sessions {
			sum += u.Sessions[i].Hash
		}
		for _, hs := range [...][]Habit{u.Countries, u.ASNs, u.Clients} {
			for i := range hs {
				sum += hs[i].Num
			}
		}
		if len(u.Known) > 0 {
			sum += uint64(u.Known[0].Prefix.Bits())
		}
		if len(u.Failures) > 0 {
			sum += uint64(u.Failures[len(u.Failures)-1].Time.Unix())
		}
		if r.addr >= 0 {
			if a := e.addrs[r.addr]; len(a.Users) > 0 {
				sum += uint64(a.Users[0].Failures)
			}
		}
	}
	e.warmSink = sum
}
