package kafka

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/atod-project/atod/detector"
)

// When the brokers take the alerts of one partition but not of another,
// Publish retries; the retry must not write again the alerts that were
// already acknowledged: the topic must hold each alert once.
func TestPublishPartialFailureWritesNoCopies(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "alerts"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var mu sync.Mutex
	failed, mixed := 0, false
	c.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kreq.(*kmsg.ProduceRequest)
		mu.Lock()
		defer mu.Unlock()
		has1, hasOther := false, false
		for _, tp := range req.Topics {
			for _, p := range tp.Partitions {
				if p.Partition == 1 {
					has1 = true
				} else {
					hasOther = true
				}
			}
		}
		if !has1 || failed >= 6 {
			return nil, nil, false
		}
		if hasOther {
			mixed = true
			return nil, nil, false
		}
		failed++
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, tp := range req.Topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic = tp.Topic
			for _, p := range tp.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition = p.Partition
				rp.ErrorCode = kerr.InvalidRecord.Code
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, true
	})
	p := New("alerts", Options{Brokers: c.ListenAddrs(), MaxBackoff: 20 * time.Millisecond})
	defer p.Close()
	now := time.Now().UTC()
	var as []detector.Alert
	for i := range 8 {
		as = append(as, detector.Alert{ID: fmt.Sprintf("a%d", i), Time: now, Rule: "brute_force",
			User: fmt.Sprintf("user%d@example.org", i), Action: "alert"})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Publish(ctx, as); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if failed == 0 || mixed {
		mu.Unlock()
		t.Skipf("test premise not met: failed %d produce requests of partition 1, mixed %v", failed, mixed)
	}
	mu.Unlock()
	got, err := p.Recent(ctx, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, a := range got {
		count[a.ID]++
	}
	for _, a := range as {
		if count[a.ID] != 1 {
			t.Errorf("alert %s (%s) is on the topic %d times, want once", a.ID, a.User, count[a.ID])
		}
	}
}
