package redisstore

import (
	"context"

	"github.com/atod-project/atod/detector"
)

var _ detector.SaverAhead = (*Store)(nil)

// SavesAhead implements detector.SaverAhead: the next batch's Load must
// find what SaveAhead sent without waiting for Redis, and only the local
// cache holds it.
func (s *Store) SavesAhead() bool { return s.cache != nil }

// SaveAhead implements detector.SaverAhead. It counts the write as done
// before it is: the new values go into the cache and the states take their
// new revisions at once, so the next batch loads them from the cache while
// the compare-and-set travels. If the write then fails, its keys are
// dropped from the cache and noted as pending, as after a failed Save; the
// caller drops the batch it ran meanwhile, and would a state derived from
// it be saved, its compare-and-set would fail: it expects revisions that
// Redis does not hold.
func (s *Store) SaveAhead(ctx context.Context, users []*detector.UserState, addrs []*detector.AddrState) (wait func() error) {
	writes, err := s.prepareAll(users, addrs)
	if err != nil || len(writes) == 0 {
		return func() error { return err }
	}
	s.mu.Lock()
	s.forgetReads()
	for _, w := range writes {
		s.landed(w)
	}
	s.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		applied, changed, err := s.compareAndSet(ctx, writes)
		err = outcome(writes, applied, changed, err)
		if err != nil {
			s.mu.Lock()
			for _, w := range writes {
				s.failed(w, w.before)
			}
			s.mu.Unlock()
		}
		done <- err
	}()
	return func() error { return <-done }
}
