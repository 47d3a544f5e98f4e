// Package stream writes large volumes of canonical events for throughput
// and memory measurements: any number of events, in time order, with
// constant memory, so that a 100-million-event replay can be piped straight
// into atod. It models load, not attacks: most events are ordinary sign-ins
// and mailbox reads of a fixed population, with a trickle of failures and
// travel, so that every rule does its usual work.
package stream

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"time"

	"github.com/atod-project/atod/enrich/geotest"
)

// Config says what to write.
type Config struct {
	Events int64         // how many events
	Users  int           // population size
	Span   time.Duration // event time covered by the whole stream
	Seed   uint64
	Start  time.Time
}

type person struct {
	name    string
	home    netip.Addr
	mobile  netip.Addr
	device  string
	agent   string
	session string
}

// Write writes cfg.Events canonical JSON lines to w.
func Write(w io.Writer, cfg Config) error {
	if cfg.Events < 0 || cfg.Users < 1 || cfg.Span <= 0 {
		return fmt.Errorf("stream: events must be >= 0, users >= 1, span > 0")
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed))
	homes := []string{"berlin", "hamburg", "munich", "vienna", "zurich", "paris", "london", "new-york"}
	abroad := []string{"lagos", "moscow", "sao-paulo", "singapore", "amsterdam-hosting"}
	people := make([]person, cfg.Users)
	for i := range people {
		home := geotest.ByName(homes[rng.IntN(len(homes))])
		people[i] = person{
			name:    "user" + strconv.Itoa(i) + "@example-tenant.org",
			home:    home.Addr(rng.IntN(1 << 16)),
			mobile:  geotest.ByName("de-mobile").Addr(rng.IntN(1 << 16)),
			device:  "d-" + strconv.FormatUint(rng.Uint64()>>16, 16),
			agent:   "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/12" + strconv.Itoa(rng.IntN(10)) + ".0",
			session: strconv.FormatUint(rng.Uint64(), 16),
		}
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	step := cfg.Span / time.Duration(max(cfg.Events, 1))
	buf := make([]byte, 0, 512)
	for i := range cfg.Events {
		t := cfg.Start.Add(time.Duration(i) * step)
		p := &people[int(rng.Uint64N(uint64(cfg.Users)))]
		buf = buf[:0]
		buf = append(buf, `{"time":"`...)
		buf = t.UTC().AppendFormat(buf, time.RFC3339Nano)
		buf = append(buf, `","user":"`...)
		buf = append(buf, p.name...)
		ip, typ := p.home, "login"
		switch r := rng.IntN(1000); {
		case r < 550:
			typ = "mailbox_access"
		case r < 600:
			ip = p.mobile
		case r < 602:
			ip = geotest.ByName(abroad[rng.IntN(len(abroad))]).Addr(rng.IntN(1 << 16))
		}
		buf = append(buf, `","ip":"`...)
		buf = ip.AppendTo(buf)
		buf = append(buf, `","type":"`...)
		buf = append(buf, typ...)
		if typ == "login" {
			if rng.IntN(100) < 6 {
				buf = append(buf, `","outcome":"failure","reason":"bad_password`...)
			} else {
				buf = append(buf, `","outcome":"success`...)
			}
			buf = append(buf, `","user_agent":"`...)
			buf = append(buf, p.agent...)
			buf = append(buf, '"')
		} else {
			buf = append(buf, `","items":`...)
			buf = strconv.AppendInt(buf, int64(1+rng.IntN(40)), 10)
		}
		buf = append(buf, `,"session_id":"`...)
		buf = append(buf, p.session...)
		buf = append(buf, `","device_id":"`...)
		buf = append(buf, p.device...)
		buf = append(buf, `","protocol":"web","id":"s`...)
		buf = strconv.AppendInt(buf, i, 36)
		buf = append(buf, "\"}\n"...)
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Floor decodes every line of r with encoding/json into a struct of the
// canonical fields, and nothing else: the rate a naive tool starts from.
// It returns the number of lines decoded.
func Floor(r io.Reader) (int64, error) {
	type event struct {
		Time      time.Time `json:"time"`
		User      string    `json:"user"`
		IP        string    `json:"ip"`
		Type      string    `json:"type"`
		Outcome   string    `json:"outcome"`
		Reason    string    `json:"reason"`
		SessionID string    `json:"session_id"`
		Protocol  string    `json:"protocol"`
		UserAgent string    `json:"user_agent"`
		DeviceID  string    `json:"device_id"`
		ID        string    `json:"id"`
		Items     int       `json:"items"`
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var n int64
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return n, fmt.Errorf("line %d: %w", n+1, err)
		}
		n++
	}
	return n, sc.Err()
}
