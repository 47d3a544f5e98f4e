package alerts

import (
	"context"
	"sync"

	"github.com/atod-project/atod/detector"
)

// Dedup passes each alert id on once, remembering the last size ids. Alert
// ids are stable, so when events are handled twice (a restart before an
// offset commit, two overlapping replays into one feed) the second copy of
// an alert is dropped here instead of reaching the SOC or a hook again.
type Dedup struct {
	next Notifier

	mu    sync.Mutex
	seen  map[string]struct{}
	order []string // ring of remembered ids, oldest at pos
	pos   int
}

var _ Notifier = (*Dedup)(nil)

// NewDedup wraps next; size bounds memory (at least 1).
func NewDedup(next Notifier, size int) *Dedup {
	size = max(size, 1)
	return &Dedup{next: next, seen: make(map[string]struct{}, size), order: make([]string, 0, size)}
}

// Notify implements Notifier. An alert whose delivery failed is forgotten,
// so a retry of it is not mistaken for a duplicate.
func (d *Dedup) Notify(ctx context.Context, a detector.Alert) (bool, error) {
	d.mu.Lock()
	if _, dup := d.seen[a.ID]; dup {
		d.mu.Unlock()
		return false, nil
	}
	d.remember(a.ID)
	d.mu.Unlock()
	retry, err := d.next.Notify(ctx, a)
	if err != nil {
		d.mu.Lock()
		delete(d.seen, a.ID)
		d.mu.Unlock()
	}
	return retry, err
}

func (d *Dedup) remember(id string) {
	if len(d.order) < cap(d.order) {
		d.order = append(d.order, id)
	} else {
		delete(d.seen, d.order[d.pos])
		d.order[d.pos] = id
		d.pos = (d.pos + 1) % len(d.order)
	}
	d.seen[id] = struct{}{}
}
