package alerts

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/atod-project/atod/alerts/queue/redistest"
	"github.com/atod-project/atod/detector"
)

// The outboxes keep what is staged until it is cleared, replacing what a
// key held; a sealed Redis outbox keeps no account or address in clear,
// reads what an outbox in clear staged before, and refuses a value moved
// to another key.
func TestOutboxes(t *testing.T) {
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer client.Close()
	sealed := NewRedisOutbox(client, "s:", 0)
	sealed.SealWith([]byte("0123456789abcdef0123456789abcdef"))
	ctx := context.Background()
	as := []detector.Alert{{ID: "a1", User: "anna@example.org", IP: "203.0.113.9", Rule: "brute_force"}}
	for name, o := range map[string]Outbox{"memory": NewMemoryOutbox(), "redis": NewRedisOutbox(client, "c:", 0), "sealed": sealed} {
		if err := o.Stage(ctx, "g/t/0", as); err != nil {
			t.Fatal(err)
		}
		if err := o.Stage(ctx, "g/t/0", append(as, detector.Alert{ID: "a2"})); err != nil {
			t.Fatal(err)
		}
		got, err := o.Pending(ctx, "g/t/0")
		if err != nil || len(got) != 2 || got[0].User != "anna@example.org" || got[1].ID != "a2" {
			t.Errorf("%s: pending %v, %v; want the second staging", name, got, err)
		}
		if err := o.Clear(ctx, "g/t/0"); err != nil {
			t.Fatal(err)
		}
		if got, err := o.Pending(ctx, "g/t/0"); err != nil || len(got) != 0 {
			t.Errorf("%s: pending after Clear: %v, %v", name, got, err)
		}
	}

	if err := sealed.Stage(ctx, "g/t/1", as); err != nil {
		t.Fatal(err)
	}
	raw := client.Get(ctx, "s:outbox:{g/t/1}").Val()
	for _, w := range []string{"anna", "203.0.113.9", "brute_force"} {
		if strings.Contains(raw, w) {
			t.Errorf("the sealed outbox holds %q in clear", w)
		}
	}
	client.Set(ctx, "s:outbox:{g/t/2}", raw, 0)
	if _, err := sealed.Pending(ctx, "g/t/2"); err == nil {
		t.Error("a sealed value moved to another key opened")
	}
	// Staged in clear before sealing: still read.
	plain := NewRedisOutbox(client, "s:", 0)
	if err := plain.Stage(ctx, "g/t/3", as); err != nil {
		t.Fatal(err)
	}
	if got, err := sealed.Pending(ctx, "g/t/3"); err != nil || len(got) != 1 {
		t.Errorf("alerts staged in clear: %v, %v", got, err)
	}
}
