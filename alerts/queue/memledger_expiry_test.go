package queue

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/atod-project/atod/alerts"
)

// The in-process ledger backs atod whenever no Redis is configured, for as
// long as the process runs. Its state must expire like the Redis keys do
// (cooldown PX, window PEXPIRE, tripped PX): a cooldown that ended is
// forgotten, so memory does not grow with every account ever revoked and
// no account name is kept past its cooldown.
func TestMemoryLedgerForgetsEndedCooldowns(t *testing.T) {
	c := newClock()
	m := NewMemory(time.Hour, c.Now)
	ctx := context.Background()
	const users = 500
	for i := range users {
		if _, err := m.Admit(ctx, alerts.AdmitRequest{Decision: fmt.Sprintf("d%d", i), Tenant: fmt.Sprintf("t%d", i),
			User: fmt.Sprintf("user%d@example.org", i), Now: c.Now(), Max: 10, Window: time.Minute,
			Cooldown: time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
	// Long after every cooldown, window and retention ended, one more
	// decision.
	c.Add(48 * time.Hour)
	if _, err := m.Admit(ctx, alerts.AdmitRequest{Decision: "late", Tenant: "t", User: "late@example.org",
		Now: c.Now(), Max: 10, Window: time.Minute, Cooldown: time.Minute}); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.decisions) > 1 {
		t.Errorf("%d decisions kept past the retention", len(m.decisions))
	}
	if len(m.cooldown) > 1 {
		t.Errorf("%d cooldowns kept long after they ended (accounts named in memory forever)", len(m.cooldown))
	}
	if len(m.windows) > 1 {
		t.Errorf("%d tenants' windows kept long after they ended", len(m.windows))
	}
	if len(m.trips) > 1 {
		t.Errorf("%d trips kept long after they ended", len(m.trips))
	}
}
