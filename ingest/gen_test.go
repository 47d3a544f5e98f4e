package ingest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// genLines makes n realistic canonical lines (about 250 bytes each): mostly
// logins from a few thousand users, some mailbox reads and inbox rules, IPv4
// and IPv6 clients, with the fields real exporters fill in.
func genLines(n int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	agents := []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
		"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
		"iPhone Mail (21E236)",
		"Thunderbird/115.9.0",
	}
	protocols := []string{"web", "imap", "activesync", "ews", "smtp", "graph"}
	reasons := []string{"bad_password", "unknown_user", "mfa_denied", "locked"}
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	lines := make([][]byte, n)
	var b strings.Builder
	for i := range lines {
		b.Reset()
		ts := start.Add(time.Duration(i) * 37 * time.Millisecond).Format(time.RFC3339Nano)
		user := fmt.Sprintf("user%04d@example.org", rng.IntN(5000))
		var ip string
		if rng.IntN(5) == 0 {
			ip = fmt.Sprintf("2001:db8:%x::%x", rng.IntN(1<<16), rng.IntN(1<<16))
		} else {
			ip = fmt.Sprintf("%d.%d.%d.%d", 1+rng.IntN(222), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
		}
		fmt.Fprintf(&b, `{"time":%q,"user":%q,"ip":%q,`, ts, user, ip)
		switch k := rng.IntN(100); {
		case k < 85:
			if rng.IntN(4) == 0 {
				fmt.Fprintf(&b, `"outcome":"failure","reason":%q,`, reasons[rng.IntN(len(reasons))])
			} else {
				b.WriteString(`"outcome":"success",`)
			}
		case k < 95:
			fmt.Fprintf(&b, `"type":"mailbox_access","items":%d,`, rng.IntN(500))
		default:
			fmt.Fprintf(&b, `"type":"inbox_rule","rule":{"name":"rule %d","forward_to":["x%d@evil.example"],"delete":true},`, i, i)
		}
		fmt.Fprintf(&b, `"session_id":"%08x-%04x","protocol":%q,"user_agent":%q,"id":"evt-%010d","tenant":"example.org"}`,
			rng.Uint32(), rng.IntN(1<<16), protocols[rng.IntN(len(protocols))], agents[rng.IntN(len(agents))], i)
		lines[i] = []byte(b.String())
	}
	return lines
}

// joinLines makes a file body from lines.
func joinLines(lines [][]byte) []byte {
	n := 0
	for _, l := range lines {
		n += len(l) + 1
	}
	out := make([]byte, 0, n)
	for _, l := range lines {
		out = append(out, l...)
		out = append(out, '\n')
	}
	return out
}
