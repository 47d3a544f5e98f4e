package redisstore

import (
	"context"
	"errors"
	"sync"

	"github.com/atod-project/atod/detector"
)

var _ detector.Committer = (*Store)(nil)

// Commit implements detector.Committer for a WriteBehind. It encodes the
// states, gives each its new revision, and returns send, which writes them
// and checks those only read with the compare-and-set script Save uses, in
// one round trip: on a single node a call per 1,024 keys, so that other
// clients (the next window's loads among them) are served between calls;
// on Cluster a call per key. Each call is all or nothing, the whole write
// is not: a refused send may have written some states, and the caller
// stops (see detector.ErrNotSoleWriter). The values are not kept in the
// value cache: the WriteBehind holds the states.
//
// send may be repeated after an error that leaves the outcome unknown (a
// connection lost): the script counts a key that holds exactly the value
// written as done.
func (s *Store) Commit(ctx context.Context, users []*detector.UserState, addrs []*detector.AddrState,
	readUsers []*detector.UserState, readAddrs []*detector.AddrState) (send func(context.Context) error, err error) {
	writes, err := s.prepareCommit(users, addrs, readUsers, readAddrs)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		if len(writes) == 0 {
			return ctx.Err()
		}
		applied, changed, err := s.compareAndSet(ctx, writes)
		if err = outcome(writes, applied, changed, err); err != nil {
			return err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, w := range writes {
			if s.cache != nil {
				s.cache.drop(w.key)
			}
		}
		return nil
	}, nil
}

// prepareCommit encodes the states to write, moving each to its new
// revision, and adds a check of each state only read, at the revision its
// Rev says. A window's write has states by the hundred thousand and the
// detector waits for their encoding, so two goroutines share it.
func (s *Store) prepareCommit(users []*detector.UserState, addrs []*detector.AddrState,
	readUsers []*detector.UserState, readAddrs []*detector.AddrState) ([]write, error) {
	hu, ha := len(users)/2, len(addrs)/2
	var (
		other []write
		err2  error
		wg    sync.WaitGroup
	)
	if len(users)+len(addrs) >= parallelEncodeMin {
		restU, restA := users[hu:], addrs[ha:]
		wg.Go(func() { other, err2 = s.encodeStates(restU, restA, 0) })
		users, addrs = users[:hu], addrs[:ha]
	}
	writes, err := s.encodeStates(users, addrs, len(other)+len(readUsers)+len(readAddrs))
	wg.Wait()
	if err = errors.Join(err, err2); err != nil {
		return nil, err
	}
	writes = append(writes, other...)
	for _, w := range writes {
		*w.rev = w.newRev
	}
	for _, u := range readUsers {
		writes = append(writes, write{key: s.keys.user(u.User), expect: revPrefix(u.Rev)})
	}
	for _, a := range readAddrs {
		writes = append(writes, write{key: s.keys.addr(a.Addr), expect: revPrefix(a.Rev)})
	}
	return writes, nil
}

// parallelEncodeMin is how many states a write needs to be encoded by two
// goroutines: below, starting one costs more than it saves.
const parallelEncodeMin = 4096

// encodeStates encodes states at the revisions their Revs say, leaving
// extra room in the slice returned. It changes no state.
func (s *Store) encodeStates(users []*detector.UserState, addrs []*detector.AddrState, extra int) ([]write, error) {
	n := len(users) + len(addrs)
	writes := make([]write, 0, n+extra)
	arena := make([]byte, 0, 256*n)
	var err error
	for _, u := range users {
		if arena, err = encodeWrite(arena, &writes, s.users, u, s.keys.user(u.User), u.Rev, &u.Rev, s.userTTL); err != nil {
			return nil, err
		}
	}
	for _, a := range addrs {
		if arena, err = encodeWrite(arena, &writes, s.addrs, a, s.keys.addr(a.Addr), a.Rev, &a.Rev, s.addrTTL); err != nil {
			return nil, err
		}
	}
	return writes, nil
}
