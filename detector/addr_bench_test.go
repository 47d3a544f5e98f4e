package detector

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
)

// BenchmarkAddAttemptCrowded records attempts at an address that the most
// accounts an address keeps (256) failed from: what each event of a
// credential-stuffing attack costs the address's state.
func BenchmarkAddAttemptCrowded(b *testing.B) {
	a := &AddrState{}
	evs := make([]enrich.Event, maxAddrUsers)
	for i := range evs {
		evs[i] = ev(at(time.Duration(i)*time.Second), user(fmt.Sprintf("user%05d@example.org", i*391)), failed())
		a.addAttempt(&evs[i], false, false, time.Hour)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		e := &evs[(i*97)%len(evs)]
		e.Time = t0.Add(time.Duration(maxAddrUsers+i) * time.Millisecond)
		a.addAttempt(e, false, false, time.Hour)
	}
}

// addAttempt's one pass keeps and finds what forgetting, then searching,
// does (the two passes it replaced, written out here): the same accounts,
// in the same order, with the same counts, whatever the order of times.
func TestAddAttemptOnePassKeepsWhatTwoDid(t *testing.T) {
	twoPasses := func(a *AddrState, e *enrich.Event, success bool, window time.Duration) {
		cut := e.Time.Add(-window)
		a.Users = slices.DeleteFunc(a.Users, func(x AddrUser) bool { return x.Last.Before(cut) })
		i := slices.IndexFunc(a.Users, func(x AddrUser) bool { return x.User == e.User })
		if i < 0 {
			if len(a.Users) >= maxAddrUsers {
				a.Users = dropFront(a.Users, 1)
			}
			a.Users = append(a.Users, AddrUser{User: e.User})
			i = len(a.Users) - 1
		}
		au := &a.Users[i]
		if e.Time.After(au.Last) {
			au.Last = e.Time
		}
		if success {
			au.Successes++
		} else {
			au.Failures++
			if e.Reason == ingest.ReasonUnknownUser {
				au.Unknown = true
			}
		}
		if e.ID != "" {
			au.EventID = e.ID
		}
	}
	rng := rand.New(rand.NewPCG(7, 9))
	var one, two AddrState
	now := t0
	for i := range 50_000 {
		now = now.Add(time.Duration(rng.IntN(3)) * time.Second)
		e := ev(at(0), user(fmt.Sprintf("u%d@x", rng.IntN(600))))
		e.Time = now.Add(-time.Duration(rng.IntN(600)) * time.Second) // some late
		e.ID = fmt.Sprintf("e%d", i)
		if rng.IntN(3) == 0 {
			e.Reason = ingest.ReasonUnknownUser
		}
		success := rng.IntN(5) == 0
		window := time.Duration(10+rng.IntN(50)) * time.Minute
		one.addAttempt(&e, success, false, window)
		twoPasses(&two, &e, success, window)
		if !slices.Equal(one.Users, two.Users) {
			t.Fatalf("event %d: %d accounts kept, the two passes keep %d", i, len(one.Users), len(two.Users))
		}
	}
	if len(one.Users) < maxAddrUsers/2 {
		t.Errorf("only %d accounts at the end: the test does not crowd the address", len(one.Users))
	}
}
