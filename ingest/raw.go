package ingest

// Bits of rawEvent.seen and rawRule.seen, to reject a known key that
// appears twice: encoding/json would silently keep the last one, which lets
// a crafted line show one user to one reader and another to the next.
const (
	seenTime = 1 << iota
	seenUser
	seenIP
	seenType
	seenOutcome
	seenReason
	seenSessionID
	seenProtocol
	seenUserAgent
	seenDeviceID
	seenID
	seenItems
	seenRule
	seenTenant
	seenName
	seenForwardTo
	seenRedirectTo
	seenDelete
	seenMoveTo
	seenSource
)

// rawEvent is one line as the JSON layer sees it, before validation. A nil
// slice means the key was absent or null. Slices point into the line or into
// the decoder's scratch buffer.
type rawEvent struct {
	seen                                   uint32
	time, user, ip, typ, outcome, reason   []byte
	sessionID, protocol, userAgent, device []byte
	id, tenant, source                     []byte
	hasItems                               bool
	items                                  int64
	rule                                   rawRule
}

// rawRule is the "rule" object; lists keep at most maxListEntries non-null
// entries so a hostile line cannot make the decoder allocate per entry.
type rawRule struct {
	present      bool
	seen         uint32
	name, moveTo []byte
	forwardTo    [][]byte
	redirectTo   [][]byte
	delete       bool
}
