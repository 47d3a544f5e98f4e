package detector

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"go.uber.org/zap"
)

// refusingStore hands out empty states and refuses the first refuse saves
// as another writer's conflict would.
type refusingStore struct {
	refuse int
	saves  int
}

func (s *refusingStore) Load(_ context.Context, users []string, addrs []netip.Addr) ([]*UserState, []*AddrState, error) {
	us := make([]*UserState, len(users))
	for i, u := range users {
		us[i] = &UserState{User: u}
	}
	as := make([]*AddrState, len(addrs))
	for i, a := range addrs {
		as[i] = &AddrState{Addr: a}
	}
	return us, as, nil
}

func (s *refusingStore) Save(context.Context, []*UserState, []*AddrState) error {
	s.saves++
	if s.saves <= s.refuse {
		return ErrConflict
	}
	return nil
}

// A refused save runs the batch again, counts it once as a conflict, and
// counts its events once.
func TestPipelineCountsConflicts(t *testing.T) {
	cfg := DefaultConfig()
	store := &refusingStore{refuse: 2}
	eng, err := NewEngine(cfg, store, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	p := NewPipeline(eng, func(context.Context, Alert) error { return nil })
	ctx := context.Background()
	for i := range 3 {
		if err := p.Push(ctx, ev(at(time.Duration(i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if p.Conflicts() != 2 || store.saves != 3 || eng.Stats().Events != 3 {
		t.Errorf("conflicts %d, saves %d, events %d; want 2, 3 and 3", p.Conflicts(), store.saves, eng.Stats().Events)
	}
}
