package alerts

import (
	"sync"
	"time"

	"github.com/atod-project/atod/detector"
)

// Delivered remembers the alerts delivered, to drop a second copy of one
// when atod handles events again after a crash. A copy is an alert with
// the same id, or one about the same incident: same rule, entity, tenant
// and action, with an event time within the incident gap of the first.
// The second test catches an alert whose id moved because events handled
// twice were counted twice (their state had been saved before the crash),
// so that the incident's first finding came earlier; the detector itself
// never raises two alerts for one incident, so no alert of a clean run is
// dropped by it. Safe for concurrent use.
type Delivered struct {
	gap time.Duration
	max int

	mu        sync.Mutex
	ids       map[string]struct{}
	incidents map[string][]time.Time // incident key → the times remembered, oldest first
	order     []remembered           // oldest first, to forget beyond max
}

// remembered is one alert Delivered holds: its id and incident key.
type remembered struct{ id, key string }

// NewDelivered remembers up to max alerts; gap is detector.incident_gap.
func NewDelivered(gap time.Duration, max int) *Delivered {
	return &Delivered{gap: gap, max: max, ids: map[string]struct{}{}, incidents: map[string][]time.Time{}}
}

func incidentKey(a *detector.Alert) string {
	entity := a.User
	if entity == "" {
		entity = a.IP
	}
	return a.Rule + "\x00" + entity + "\x00" + a.Tenant + "\x00" + a.Action
}

// Fresh returns the alerts of as that are not copies of one remembered,
// in order, without remembering them. as is not modified.
func (d *Delivered) Fresh(as []detector.Alert) []detector.Alert {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []detector.Alert
	for i := range as {
		if !d.seen(&as[i]) {
			out = append(out, as[i])
		}
	}
	return out
}

func (d *Delivered) seen(a *detector.Alert) bool {
	if _, ok := d.ids[a.ID]; ok {
		return true
	}
	for _, t := range d.incidents[incidentKey(a)] {
		if diff := a.Time.Sub(t); diff <= d.gap && diff >= -d.gap {
			return true
		}
	}
	return false
}

// Remember notes alerts as delivered: alerts already on a topic when atod
// resumed, or a batch just written.
func (d *Delivered) Remember(as ...detector.Alert) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range as {
		a := &as[i]
		if _, ok := d.ids[a.ID]; ok {
			continue
		}
		d.ids[a.ID] = struct{}{}
		k := incidentKey(a)
		d.incidents[k] = append(d.incidents[k], a.Time)
		d.order = append(d.order, remembered{id: a.ID, key: k})
	}
	if len(d.order) > d.max {
		// The oldest go, each with its incident time: a key's times were
		// added in the order of d.order, so its oldest is at its front.
		drop := len(d.order) - d.max
		for _, r := range d.order[:drop] {
			delete(d.ids, r.id)
			if ts := d.incidents[r.key]; len(ts) > 1 {
				d.incidents[r.key] = ts[1:]
			} else {
				delete(d.incidents, r.key)
			}
		}
		d.order = append(d.order[:0], d.order[drop:]...)
	}
}
