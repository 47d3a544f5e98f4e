// Package naive is the baseline atod is measured against: the rule pack of
// a typical SIEM with the thresholds its vendors publish. Each rule looks at
// one signal alone (speed between sign-ins, failures per address or per
// account, addresses per session), which is why benign noise trips it.
package naive

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/ingest"
)

// Published thresholds.
const (
	MaxSpeedKmh        = 900              // impossible travel above this speed
	StuffingAccounts   = 30               // more than this many accounts failing from one address...
	StuffingWindow     = 5 * time.Minute  // ...within this window
	BruteFailures      = 20               // this many failures of one account...
	BruteWindow        = 30 * time.Minute // ...within this window
	maxUsersInAlert    = 20
	maxEvidenceInAlert = 20
)

// Run applies the rule pack to events (in any order: it sorts them by time)
// and returns the alerts in the order they fired.
func Run(events []ingest.Event) []detector.Alert {
	events = slices.Clone(events)
	slices.SortStableFunc(events, func(a, b ingest.Event) int { return a.Time.Compare(b.Time) })
	r := &rules{
		lastSignIn: map[string]signIn{},
		byAddr:     map[netip.Addr]*failures{},
		byUser:     map[string]*failures{},
		sessions:   map[string][]netip.Addr{},
		locate:     NewLocator(),
	}
	for i := range events {
		r.event(&events[i])
	}
	return r.alerts
}

type signIn struct {
	at    time.Time
	place Place
	id    string
}

type failure struct {
	at   time.Time
	user string
	id   string
}

// failures is a sliding window of failed sign-ins and when it last alerted.
type failures struct {
	list    []failure
	alerted time.Time
}

func (f *failures) push(x failure, window time.Duration) {
	f.list = append(f.list, x)
	cut := 0
	for cut < len(f.list) && x.at.Sub(f.list[cut].at) > window {
		cut++
	}
	f.list = f.list[cut:]
}

type rules struct {
	lastSignIn map[string]signIn
	byAddr     map[netip.Addr]*failures
	byUser     map[string]*failures
	sessions   map[string][]netip.Addr
	locate     *Locator
	alerts     []detector.Alert
}

func (r *rules) event(e *ingest.Event) {
	user := strings.ToLower(e.User)
	if e.Succeeded() {
		r.travel(e, user)
	}
	if e.Failed() {
		r.stuffing(e, user)
		r.bruteForce(e, user)
	}
	if e.SessionID != "" && e.IP.IsValid() {
		r.session(e, user)
	}
}

// travel flags a success too far from the previous one for the time between.
func (r *rules) travel(e *ingest.Event, user string) {
	place, ok := r.locate.Locate(e.IP)
	if !ok {
		return
	}
	prev, seen := r.lastSignIn[user]
	r.lastSignIn[user] = signIn{at: e.Time, place: place, id: e.ID}
	if !seen {
		return
	}
	km := GreatCircleKm(prev.place.Lat, prev.place.Lon, place.Lat, place.Lon)
	h := e.Time.Sub(prev.at).Hours()
	if km == 0 || (h > 0 && km/h <= MaxSpeedKmh) {
		return
	}
	speed := "instantly"
	if h > 0 {
		speed = fmt.Sprintf("at %.0f km/h", km/h)
	}
	r.emit(e, "impossible_travel", user, nil, 60, []string{prev.id, e.ID},
		fmt.Sprintf("Signed in from %s %.0f km from %s, %s.", place.Name, km, prev.place.Name, speed))
}

// stuffing flags an address at which many accounts failed within minutes.
func (r *rules) stuffing(e *ingest.Event, user string) {
	if !e.IP.IsValid() {
		return
	}
	f := r.byAddr[e.IP]
	if f == nil {
		f = &failures{}
		r.byAddr[e.IP] = f
	}
	f.push(failure{at: e.Time, user: user, id: e.ID}, StuffingWindow)
	var users []string
	for _, x := range f.list {
		if !slices.Contains(users, x.user) {
			users = append(users, x.user)
		}
	}
	if len(users) <= StuffingAccounts || (!f.alerted.IsZero() && e.Time.Sub(f.alerted) < StuffingWindow) {
		return
	}
	f.alerted = e.Time
	r.emit(e, "credential_stuffing", "", users, 70, ids(f.list),
		fmt.Sprintf("%d accounts failed to sign in from %s within %v.", len(users), e.IP, StuffingWindow))
}

// bruteForce flags an account with many failures within half an hour.
func (r *rules) bruteForce(e *ingest.Event, user string) {
	f := r.byUser[user]
	if f == nil {
		f = &failures{}
		r.byUser[user] = f
	}
	f.push(failure{at: e.Time, user: user, id: e.ID}, BruteWindow)
	if len(f.list) < BruteFailures || (!f.alerted.IsZero() && e.Time.Sub(f.alerted) < BruteWindow) {
		return
	}
	f.alerted = e.Time
	r.emit(e, "brute_force", user, nil, 60, ids(f.list),
		fmt.Sprintf("%d failed sign-ins within %v.", len(f.list), BruteWindow))
}

// session flags a session id used from a second address.
func (r *rules) session(e *ingest.Event, user string) {
	addrs := r.sessions[e.SessionID]
	if slices.Contains(addrs, e.IP) {
		return
	}
	r.sessions[e.SessionID] = append(addrs, e.IP)
	if len(addrs) == 0 {
		return
	}
	r.emit(e, "session_hijack", user, nil, 70, []string{e.ID},
		fmt.Sprintf("Session seen from %s after %s.", e.IP, addrs[len(addrs)-1]))
}

func (r *rules) emit(e *ingest.Event, rule, user string, users []string, score int, evidence []string, reason string) {
	if len(users) > maxUsersInAlert {
		users = users[:maxUsersInAlert]
	}
	if len(evidence) > maxEvidenceInAlert {
		evidence = evidence[len(evidence)-maxEvidenceInAlert:]
	}
	a := detector.Alert{
		ID: fmt.Sprintf("naive-%06d", len(r.alerts)+1), Time: e.Time, Rule: rule,
		User: user, Users: users, Score: score, Severity: detector.SeverityOf(score),
		Action: detector.ActionAlert, Reasons: []string{reason}, Evidence: evidence,
	}
	if e.IP.IsValid() {
		a.IP = e.IP.String()
	}
	r.alerts = append(r.alerts, a)
}

func ids(list []failure) []string {
	out := make([]string, 0, len(list))
	for _, x := range list {
		if x.id != "" {
			out = append(out, x.id)
		}
	}
	return out
}

// ReadEvents reads canonical events, one JSON object a line, refusing the
// file at its first unusable line: a baseline fed half the input would be
// flattered.
func ReadEvents(path string) ([]ingest.Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodeEvents(f)
}

// DecodeEvents is ReadEvents over a reader.
func DecodeEvents(r io.Reader) ([]ingest.Event, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	var out []ingest.Event
	for n := 1; sc.Scan(); n++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		e, err := ingest.ParseCanonical(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// WriteAlerts writes alerts as JSON lines.
func WriteAlerts(w io.Writer, alerts []detector.Alert) error {
	enc := json.NewEncoder(w)
	for i := range alerts {
		if err := enc.Encode(&alerts[i]); err != nil {
			return err
		}
	}
	return nil
}
