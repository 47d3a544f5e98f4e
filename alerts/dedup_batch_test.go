package alerts

import (
	"fmt"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
)

// Delivered remembers at most max alerts: the incident times behind its
// second test must be bounded too, not only the ids. One account that a
// rule flags again and again (a frequent traveller, a shared mailbox under
// steady spraying) makes one incident key whose times would otherwise grow
// for as long as atod runs.
func TestDeliveredIncidentsAreBounded(t *testing.T) {
	const max = 8
	d := NewDelivered(time.Hour, max)
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	for i := range 1000 {
		d.Remember(detector.Alert{ID: fmt.Sprintf("a%d", i), Rule: "impossible_travel", User: "anna@example.org",
			Action: detector.ActionAlert, Time: t0.Add(time.Duration(i) * 24 * time.Hour)})
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, ts := range d.incidents {
		n += len(ts)
	}
	if len(d.ids) > max || n > max {
		t.Fatalf("remembering at most %d alerts keeps %d ids and %d incident times", max, len(d.ids), n)
	}
}

// The alerts remembered last are the ones a crash is most likely to bring
// back: forgetting to stay within max must drop the oldest, never the
// incident of the alert just remembered.
func TestDeliveredKeepsTheNewestIncident(t *testing.T) {
	const max = 4
	d := NewDelivered(time.Hour, max)
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	alert := func(id, user string) detector.Alert {
		return detector.Alert{ID: id, Rule: "brute_force", User: user, Action: detector.ActionAlert, Time: t0}
	}
	for i := range max + 1 {
		d.Remember(alert(fmt.Sprintf("a%d", i), fmt.Sprintf("user%d@example.org", i)))
	}
	// The last alert again after a crash, its id moved (the incident's
	// events were counted twice): a copy, to be dropped.
	copyOfLast := alert("moved", fmt.Sprintf("user%d@example.org", max))
	if fresh := d.Fresh([]detector.Alert{copyOfLast}); len(fresh) != 0 {
		t.Fatal("a copy of the alert remembered last passes as fresh: the trim forgot every incident, the newest too")
	}
}
