package redisstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
)

// A value whose revision does not parse (empty, or a varint that overflows:
// corrupt bytes) is dropped as undecodable, and the account starts afresh;
// the Save that replaces it must go through. Refusing it with ErrConflict
// makes the Pipeline rerun the batch forever: every rerun loads the same
// bad value and is refused again.
func TestUnparseableRevisionIsReplaced(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		raw  string
	}{
		{"empty", ""},
		{"varint overflow", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x02"},
		{"truncated varint", "\x80"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig([]string{srv.addr()}, "bad:"+c.name+":")
			s := newTestStore(t, cfg)
			users := []string{"anna@example.org"}
			if err := s.client.Set(ctx, s.keys.user(users[0]), c.raw, time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
			for attempt := range 3 { // the Pipeline's reruns
				us, _, err := s.Load(ctx, users, nil)
				if err != nil {
					t.Fatalf("load of a corrupt value: %v", err)
				}
				us[0].Logins = 1
				err = s.Save(ctx, us, nil)
				if err == nil {
					if n := s.Dropped(); n != 1 {
						t.Errorf("Dropped() = %d after one damaged value, want 1 (the metric atod_state_dropped_total)", n)
					}
					return
				}
				if !errors.Is(err, detector.ErrConflict) {
					t.Fatalf("save over a corrupt value: %v", err)
				}
				t.Logf("attempt %d: %v", attempt, err)
			}
			t.Fatal("every rerun's save over the corrupt value is refused as a conflict: the batch can never be saved")
		})
	}
}

// A key this instance saved (and so keeps in its cache) expires in Redis,
// and another instance creates it again: its revisions start over from 1.
// This instance's next Load must not hand out its cached copy, which is
// older than what Redis holds, and its Save must not overwrite the other
// instance's write because the revision numbers happen to match.
func TestCacheAfterKeyExpiredAndRecreated(t *testing.T) {
	srv := startRedis(t)
	cfg := testConfig([]string{srv.addr()}, "aba:")
	cfg.UserTTL = 300 * time.Millisecond
	newStore := func() *Store {
		s, err := New(cfg, Options{UserRetention: 100 * time.Millisecond, AddrRetention: time.Hour, LookupEnv: testSecret})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a := newStore()
	ctx := context.Background()
	users := []string{"anna@example.org"}
	set := func(s *Store, logins int) *detector.UserState {
		t.Helper()
		us, _, err := s.Load(ctx, users, nil)
		if err != nil {
			t.Fatal(err)
		}
		us[0].Logins = logins
		if err := s.Save(ctx, us, nil); err != nil {
			t.Fatal(err)
		}
		return us[0]
	}
	set(a, 1) // revision 1, cached by a
	key := a.keys.user(users[0])
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := a.client.Exists(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the key did not expire")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cfg.UserTTL = time.Hour // the other instance's keys must not expire
	b := newStore()
	if got := set(b, 100); got.Rev != 1 {
		t.Fatalf("b recreated the key at revision %d, want 1", got.Rev)
	}

	us, _, err := a.Load(ctx, users, nil)
	if err != nil {
		t.Fatal(err)
	}
	if us[0].Logins != 100 {
		t.Errorf("a loaded %d logins at revision %d, Redis holds b's 100: the cache served a state older than Redis's", us[0].Logins, us[0].Rev)
	}
	us[0].Logins++
	saveErr := a.Save(ctx, us, nil)
	c := newStore()
	got, _, err := c.Load(ctx, users, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Logins < 100 {
		t.Errorf("a's save (%v) overwrote b's write: Redis holds %d logins at revision %d, want b's 100 kept", saveErr, got[0].Logins, got[0].Rev)
	}
}

// A value of a few kilobytes must not decode into a state of many
// megabytes: a run of a column (colRuns) repeats one value for up to as
// many elements as the value has bytes, and each element decodes a copy
// of it, so a value of B bytes can ask for B²/4 bytes of strings (a 1 MB
// value, 256 GB: the process dies of it). colAffix is alike: its prefix
// and suffix are copied into every element.
func TestDecodeRunDoesNotAmplify(t *testing.T) {
	c, err := newCodec[detector.AddrState](nil, "Addr", "Rev")
	if err != nil {
		t.Fatal(err)
	}
	id := func(typ reflect.Type, name string) uint64 {
		sf, ok := typ.FieldByName(name)
		if !ok {
			t.Fatalf("%s has no field %s", typ, name)
		}
		return fieldID(sf)
	}
	const n = 16384 // elements, and bytes of the one event id they share: 268 MB unbounded
	var list []byte
	list = binary.AppendUvarint(list, n<<1|1)
	list = binary.AppendUvarint(list, id(reflect.TypeFor[detector.AddrUser](), "EventID")<<2|uint64(wireBytes))
	list = binary.AppendUvarint(list, colRuns+n-1) // one run of all n
	list = binary.AppendUvarint(list, n)
	list = append(list, bytes.Repeat([]byte{'x'}, n)...)
	raw := appendHeader(nil, 1)
	raw = appendTime(raw, time.Time{}, timeEpoch) // the base
	raw = binary.AppendUvarint(raw, id(reflect.TypeFor[detector.AddrState](), "Users")<<2|uint64(wireBytes))
	raw = binary.AppendUvarint(raw, uint64(len(list)))
	raw = append(raw, list...)

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var a detector.AddrState
	_, err = decodeInto(c, raw, nil, &a)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("a %d-byte value: %v, %d accounts, %d bytes allocated", len(raw), err, len(a.Users), alloc)
	if err == nil {
		t.Error("a value whose run expands a thousandfold decoded without an error")
	}
	// The elements' slice itself (n AddrUsers) plus at most maxColumnBytes.
	if limit := uint64(n)*uint64(reflect.TypeFor[detector.AddrUser]().Size()) + 2*maxColumnBytes; alloc > limit {
		t.Errorf("decoding a %d-byte value allocated %d bytes (%d times its size), want at most %d",
			len(raw), alloc, alloc/uint64(len(raw)), limit)
	}
}
