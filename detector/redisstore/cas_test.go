package redisstore

import (
	"context"
	"testing"
	"time"
)

// TestCompareAndSetCases checks each case of casScript on its own, on one
// node and on Cluster: the replays of the other tests never meet an own
// write that already landed or a key that vanished since it was loaded.
func TestCompareAndSetCases(t *testing.T) {
	single := []string{startRedis(t).addr()}
	cluster := startCluster(t)
	value := func(rev int64, body string) []byte { return append(appendHeader(nil, rev), body...) }
	cases := []struct {
		name    string
		holds   []byte // what the key holds before the Save; nil: absent
		expect  int64  // revision the Save expects; 0: absent
		changed bool
	}{
		{"absent as expected", nil, 0, false},
		{"revision as expected", value(3, "old"), 3, false},
		{"revision as expected, longer encoding", value(300, "old"), 300, false},
		{"own write already landed", value(4, "new"), 3, false},
		{"own first write already landed", value(1, "new"), 0, false},
		{"created by another instance", value(1, "theirs"), 0, true},
		{"written by another instance", value(4, "theirs"), 3, true},
		{"deleted or expired since loaded", nil, 3, true},
	}
	ctx := context.Background()
	for _, nodes := range [][]string{single, cluster} {
		s := newTestStore(t, testConfig(nodes, "cas:"))
		for _, c := range cases {
			other := "cas:u:{other}"
			key := "cas:u:{" + c.name + "}"
			for _, k := range []string{key, other} {
				if err := s.client.Del(ctx, k).Err(); err != nil {
					t.Fatal(err)
				}
			}
			if c.holds != nil {
				if err := s.client.Set(ctx, key, c.holds, time.Hour).Err(); err != nil {
					t.Fatal(err)
				}
			}
			newValue := value(c.expect+1, "new")
			// A second key that may be written: on one node, a conflict
			// on the first keeps it from being written.
			writes := []write{
				{key: key, expect: revPrefix(c.expect), value: newValue, ttl: time.Hour},
				{key: other, value: value(1, "other"), ttl: time.Hour},
			}
			applied, changed, err := s.compareAndSet(ctx, writes)
			if err != nil {
				t.Fatalf("%d nodes, %s: %v", len(nodes), c.name, err)
			}
			if changed[0] != c.changed || applied[0] == c.changed || changed[1] {
				t.Errorf("%d nodes, %s: applied %v, changed %v; want changed %v", len(nodes), c.name, applied, changed, c.changed)
			}
			want := newValue
			if c.changed {
				want = c.holds
			}
			got, err := s.client.Get(ctx, key).Bytes()
			if want == nil && err == nil || want != nil && string(got) != string(want) {
				t.Errorf("%d nodes, %s: the key holds %q (%v), want %q", len(nodes), c.name, got, err, want)
			}
			if len(nodes) == 1 {
				n, err := s.client.Exists(ctx, other).Result()
				if err != nil || (n == 1) == c.changed {
					t.Errorf("one node, %s: the other key exists: %d, %v; want all or nothing", c.name, n, err)
				}
			}
		}
	}
}
