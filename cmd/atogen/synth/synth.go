// Package synth generates labelled synthetic tenants: a hospital group's
// mailbox sign-ins over some days, with realistic benign behaviour, benign
// noise that naive rules mistake for attacks, and labelled attacks. Every
// address comes from geotest.World, so the GeoIP test databases locate them.
//
// One seed gives the same tenant, byte for byte: all randomness flows from
// one math/rand/v2 source in a fixed order, and nothing iterates a map.
package synth

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/atod-project/atod/cmd/atogen/label"
	"github.com/atod-project/atod/ingest"
)

// Config says what tenant to generate.
type Config struct {
	Users    int
	Days     int
	Seed     uint64
	Start    time.Time     // first day, at midnight UTC as a rule
	Disorder time.Duration // how late an event may arrive in the file
}

// Validate rejects sizes the generator cannot fill sensibly.
func (c Config) Validate() error {
	var errs []error
	if c.Users < 20 {
		errs = append(errs, fmt.Errorf("users: %d is fewer than 20", c.Users))
	}
	if c.Users > 100000 {
		errs = append(errs, fmt.Errorf("users: %d is more than 100000", c.Users))
	}
	if c.Days < 1 || c.Days > 90 {
		errs = append(errs, fmt.Errorf("days: %d is not within 1..90", c.Days))
	}
	if c.Start.IsZero() {
		errs = append(errs, errors.New("start: missing"))
	}
	if c.Disorder < 0 || c.Disorder > time.Hour {
		errs = append(errs, fmt.Errorf("disorder: %v is not from 0 to 1h (atod's largest lateness)", c.Disorder))
	}
	return errors.Join(errs...)
}

// Tenant is a generated tenant: events sorted by time with ids assigned in
// that order, and the labels that point at them.
type Tenant struct {
	Config Config
	Events []*ingest.Event
	Labels *label.Set
}

// gen holds the state of one generation run.
type gen struct {
	cfg        Config
	rng        *rand.Rand
	start, end time.Time
	events     []*ingest.Event
	users      []*user
	next       map[string]int // next host index to try per place network
	used       map[netip.Addr]bool
	attacks    []*attack
	noise      map[string][]*user
	accounts   map[string]bool // lower-case names of the tenant's accounts
}

// Generate builds the tenant described by cfg.
func Generate(cfg Config) (*Tenant, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &gen{
		cfg:   cfg,
		rng:   rand.New(rand.NewPCG(cfg.Seed, 0x61746f64)), // "atod"
		start: cfg.Start.UTC(),
		end:   cfg.Start.UTC().Add(time.Duration(cfg.Days) * 24 * time.Hour),
		next:  map[string]int{},
		used:  map[netip.Addr]bool{},
		noise: map[string][]*user{},
	}
	g.makeUsers()
	g.assignNoise()
	for _, u := range g.users {
		for day := range cfg.Days {
			g.userDay(u, day)
		}
		g.userNoiseEvents(u)
	}
	g.makeAttacks()
	g.finish()
	return &Tenant{Config: cfg, Events: g.events, Labels: g.labels()}, nil
}

// add records an event; events outside the tenant's time span are dropped
// (nil is returned) so every day has the same shape at its edges.
func (g *gen) add(e ingest.Event) *ingest.Event {
	e.Time = e.Time.UTC().Truncate(time.Millisecond)
	if e.Time.Before(g.start) || !e.Time.Before(g.end) {
		return nil
	}
	if e.Type == "" {
		e.Type = ingest.TypeLogin
	}
	p := &e
	g.events = append(g.events, p)
	return p
}

// finish sorts the events by time and numbers them in that order, so ids
// read like a source's sequence numbers.
func (g *gen) finish() {
	slices.SortStableFunc(g.events, func(a, b *ingest.Event) int { return a.Time.Compare(b.Time) })
	for i, e := range g.events {
		e.ID = fmt.Sprintf("ev-%07d", i+1)
	}
}

// labels collects the answer key once ids are final.
func (g *gen) labels() *label.Set {
	s := &label.Set{Tenant: &label.Tenant{
		Users: g.cfg.Users, Days: g.cfg.Days, Start: g.start, End: g.end, Seed: g.cfg.Seed,
	}}
	for _, kind := range label.NoiseKinds {
		us := g.noise[kind]
		if len(us) == 0 {
			continue
		}
		n := label.Noise{Noise: kind}
		for _, u := range us {
			n.Users = append(n.Users, u.name)
		}
		s.Noise = append(s.Noise, n)
	}
	for i, a := range g.attacks {
		s.Attacks = append(s.Attacks, a.label(fmt.Sprintf("a-%d", i+1)))
	}
	return s
}

// Helpers over the one random source.

func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }

func (g *gen) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(g.rng.Int64N(int64(hi-lo)))
}

func (g *gen) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.rng.IntN(16)]
	}
	return string(b)
}

func (g *gen) session() string { return g.hex(16) }

func pick[T any](g *gen, xs []T) T { return xs[g.rng.IntN(len(xs))] }

// hours turns fractional hours into a duration.
func hours(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }
