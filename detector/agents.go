package detector

// agentHashes remembers clientHash("a", ua) of recent user agents.
//
// A tenant's sign-ins come from a few hundred distinct agents of about a
// hundred bytes or more, and hashing one byte at a time, twice for each
// successful sign-in (weighing it, then learning from it), was 2–3 % of
// the replay detector's goroutine. The parser interns agents, so a hit is
// mostly a comparison of two pointers. A slot holds the last agent that
// fell in it; a collision only means hashing again.
type agentHashes [256]struct {
	ua string
	h  uint64
}

// of returns clientHash("a", ua); ua must not be empty.
func (c *agentHashes) of(ua string) uint64 {
	n := len(ua)
	slot := &c[(n*31+int(ua[n/2])*7+int(ua[n-1]))&(len(c)-1)]
	if slot.ua == ua {
		return slot.h
	}
	h := clientHash("a", ua)
	slot.ua, slot.h = ua, h
	return h
}
