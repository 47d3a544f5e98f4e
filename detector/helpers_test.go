package detector

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/atod-project/atod/enrich"
	"github.com/atod-project/atod/ingest"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// loc is a hand-made GeoIP answer, so detector tests need no database.
type loc struct {
	country, city string
	lat, lon      float64
	radius        int
	asn           uint32
	trusted       bool
}

var (
	berlin  = loc{"DE", "Berlin", 52.52, 13.405, 20, 3320, false}
	munich  = loc{"DE", "Munich", 48.14, 11.58, 20, 8881, false}
	lagos   = loc{"NG", "Lagos", 6.52, 3.38, 50, 29465, false}
	newYork = loc{"US", "New York", 40.71, -74.0, 20, 7922, false}
	deMob   = loc{"DE", "", 51.30, 9.49, 1000, 6805, false}
	usMob   = loc{"US", "", 37.75, -97.82, 1000, 21928, false}
	vpnUS   = loc{"US", "Boston", 42.36, -71.06, 10, 64501, true}
)

type evOpt func(*enrich.Event)

func at(d time.Duration) evOpt { return func(e *enrich.Event) { e.Time = t0.Add(d) } }
func from(ip string) evOpt     { return func(e *enrich.Event) { e.IP = netip.MustParseAddr(ip) } }
func where(l loc) evOpt        { return func(e *enrich.Event) { e.Geo = l.geo() } }
func reason(r string) evOpt    { return func(e *enrich.Event) { e.Reason = r } }
func failed() evOpt            { return func(e *enrich.Event) { e.Outcome = ingest.OutcomeFailure } }
func user(u string) evOpt      { return func(e *enrich.Event) { e.User = u } }
func kind(typ string) evOpt    { return func(e *enrich.Event) { e.Type = typ } }
func device(d string) evOpt    { return func(e *enrich.Event) { e.DeviceID = d } }
func (l loc) geo() enrich.Geo {
	return enrich.Geo{Kind: enrich.KindPublic, Country: l.country, City: l.city, Lat: l.lat, Lon: l.lon,
		RadiusKm: l.radius, HasLoc: true, ASN: l.asn, Trusted: l.trusted}
}

var evSeq int

// ev builds a successful login of anna from Berlin at t0, changed by opts.
func ev(opts ...evOpt) enrich.Event {
	evSeq++
	e := enrich.Event{Event: ingest.Event{Time: t0, User: "anna@example.org", Type: ingest.TypeLogin,
		Outcome: ingest.OutcomeSuccess, IP: netip.MustParseAddr("84.128.0.10"), ID: fmt.Sprintf("e%d", evSeq)}, Geo: berlin.geo()}
	for _, o := range opts {
		o(&e)
	}
	return e
}

// run replays events through a fresh pipeline with cfg and returns the alerts.
func run(t testing.TB, cfg Config, events []enrich.Event) []Alert {
	t.Helper()
	store := NewMemoryStore(cfg.UserRetention, cfg.AddrRetention)
	return runStore(t, cfg, store, events)
}

func runStore(t testing.TB, cfg Config, store Store, events []enrich.Event) []Alert {
	t.Helper()
	return runBatches(t, cfg, store, 0, events)
}

// runBatches is runStore with the pipeline's batch size set (0: the
// default): live mode runs small batches, and the memory store sweeps
// between them.
func runBatches(t testing.TB, cfg Config, store Store, size int, events []enrich.Event) []Alert {
	t.Helper()
	return runPipeline(t, cfg, store, size, false, events)
}

// runPipeline is runBatches with ConfirmProgress set when confirm is, as
// replay sets it.
func runPipeline(t testing.TB, cfg Config, store Store, size int, confirm bool, events []enrich.Event) []Alert {
	t.Helper()
	got, _ := drive(t, cfg, store, size, events, func(p *Pipeline) {
		if confirm {
			p.ConfirmProgress()
		}
	})
	return got
}

// drive runs events through a Pipeline over store, set up by setup, in
// batches of size (0: the default), and returns the alerts and the
// Pipeline.
func drive(t testing.TB, cfg Config, store Store, size int, events []enrich.Event, setup func(*Pipeline)) ([]Alert, *Pipeline) {
	t.Helper()
	eng, err := NewEngine(cfg, store, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	var got []Alert
	p := NewPipeline(eng, func(_ context.Context, a Alert) error { got = append(got, a); return nil })
	setup(p)
	if size > 0 {
		p.SetBatchSize(size)
	}
	ctx := context.Background()
	for _, e := range events {
		if err := p.Push(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return got, p
}

func rulesOf(alerts []Alert) []string {
	var r []string
	for _, a := range alerts {
		r = append(r, a.Rule+"/"+a.Action)
	}
	return r
}

// runLive runs events as live mode does: batches of one, with the
// ceiling (the clock plus a margin) at ceiling, and memory state. It
// returns the alerts and how many events were early.
func runLive(t testing.TB, cfg Config, ceiling time.Time, events []enrich.Event) ([]Alert, int64) {
	t.Helper()
	got, p := drive(t, cfg, NewMemoryStore(cfg.UserRetention, cfg.AddrRetention), 1, events,
		func(p *Pipeline) { p.SetCeiling(ceiling) })
	return got, p.Early()
}
