package redisstore

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/storetest"
)

// capture keeps the last state saved of each account and address: the
// demo tenant's typical states, for codec benchmarks.
type capture struct {
	*detector.MemoryStore
	users map[string]detector.UserState
	addrs map[netip.Addr]detector.AddrState
}

func (c *capture) Save(ctx context.Context, us []*detector.UserState, as []*detector.AddrState) error {
	for _, u := range us {
		c.users[u.User] = *u
	}
	for _, a := range as {
		c.addrs[a.Addr] = *a
	}
	return c.MemoryStore.Save(ctx, us, as)
}

func demoStates(b testing.TB) ([]detector.UserState, []detector.AddrState) {
	cfg := detector.DefaultConfig()
	c := &capture{MemoryStore: detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention),
		users: make(map[string]detector.UserState), addrs: make(map[netip.Addr]detector.AddrState)}
	storetest.Replay(b, cfg, c, storetest.DemoEvents(b))
	var us []detector.UserState
	for _, u := range c.users {
		us = append(us, u)
	}
	var as []detector.AddrState
	for _, a := range c.addrs {
		as = append(as, a)
	}
	return us, as
}

// BenchmarkCodec encodes and decodes the demo tenant's final states; the
// figures are per state.
func BenchmarkCodec(b *testing.B) {
	us, as, uc, ac := demoCodecs(b)
	var buf []byte
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			buf, _ = uc.appendValue(buf[:0], &us[i%len(us)])
			buf, _ = ac.appendValue(buf[:0], &as[i%len(as)])
		}
	})
	ub := make([][]byte, len(us))
	for i := range us {
		ub[i], _ = uc.appendValue(nil, &us[i])
	}
	ab := make([][]byte, len(as))
	for i := range as {
		ab[i], _ = ac.appendValue(nil, &as[i])
	}
	b.Run("decode", func(b *testing.B) { benchDecode(b, uc, ac, ub, ab) })
}

// demoCodecs returns the demo tenant's final states and the codecs the
// Store uses for them.
func demoCodecs(tb testing.TB) ([]detector.UserState, []detector.AddrState, *codec[detector.UserState], *codec[detector.AddrState]) {
	tb.Helper()
	us, as := demoStates(tb)
	uc, err := newCodec[detector.UserState](nil, "User", "Rev")
	if err != nil {
		tb.Fatal(err)
	}
	ac, err := newCodec[detector.AddrState](nil, "Addr", "Rev")
	if err != nil {
		tb.Fatal(err)
	}
	return us, as, uc, ac
}

// benchDecode decodes the encoded states ub and ab in turn, an account and
// an address per iteration.
func benchDecode(b *testing.B, uc *codec[detector.UserState], ac *codec[detector.AddrState], ub, ab [][]byte) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		var u detector.UserState
		var a detector.AddrState
		_ = uc.decode(ub[i%len(ub)], &u)
		_ = ac.decode(ab[i%len(ab)], &a)
	}
}

// BenchmarkCodecCrowdedAddress encodes and decodes an address that 256
// accounts (the most an address keeps) failed from, their names sealed:
// what an address under a credential-stuffing attack costs each batch
// that touches it. The live benchmark's 250 attacking addresses are such
// addresses.
func BenchmarkCodecCrowdedAddress(b *testing.B) {
	ac, err := newCodec[detector.AddrState](newSealer([]byte("benchmark pseudonym key, 32 B..")), "Addr", "Rev")
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	a := detector.AddrState{Seen: start.Add(time.Hour)}
	for i := range 256 {
		at := start.Add(time.Duration(i) * 13 * time.Second)
		a.Users = append(a.Users, detector.AddrUser{User: fmt.Sprintf("user%05d@example.org", i*391),
			Last: at.Add(time.Duration(i%7) * time.Minute), Failures: 1 + i%3, EventID: fmt.Sprintf("b%d", 1_000_000+i*977)})
	}
	buf, err := ac.appendValue(nil, &a)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf, _ = ac.appendValue(buf[:0], &a)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var d detector.AddrState
			if err := ac.decode(buf, &d); err != nil {
				b.Fatal(err)
			}
		}
	})
}
