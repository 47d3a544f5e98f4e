package queue

import (
	"context"
	"testing"
	"time"
)

func TestMemory(t *testing.T) {
	runSuite(t, func(t *testing.T) backend {
		c := newClock()
		m := NewMemory(time.Hour, c.Now)
		return backend{queue: m, ledger: m, clock: c}
	})
}

func TestMemoryDrain(t *testing.T) {
	m := NewMemory(0, nil)
	mustEnqueue(t, m, job("d1"))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if left := m.Drain(ctx); left != 1 {
		t.Fatalf("Drain with a pending job: left %d, want 1", left)
	}
	j := claim(t, m)
	go func() { _ = m.Done(context.Background(), j) }()
	if left := m.Drain(context.Background()); left != 0 {
		t.Fatalf("left %d", left)
	}
}
