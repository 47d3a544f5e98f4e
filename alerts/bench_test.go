package alerts_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/graph"
	"github.com/atod-project/atod/alerts/queue"
	"github.com/atod-project/atod/alerts/queue/redistest"
	"github.com/atod-project/atod/detector"
)

// BenchmarkDecisionToProvider measures the time from a revoke_sessions
// decision reaching the dispatcher to the revocation request arriving at
// the identity provider (a Graph look-alike that answers after 20ms),
// while a background stream of ordinary alerts feeds two sinks. Each
// iteration is one revocation; decisions come every 5ms (200/s) against
// 500 alerts/s in the background, far above a real tenant's rate. p50 and
// p99 are reported as metrics.
func BenchmarkDecisionToProvider(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		q := queue.NewMemory(0, nil)
		benchDecisions(b, q, q)
	})
	b.Run("redis", func(b *testing.B) {
		srv := redistest.Start(b)
		q := redisBenchQueue(b, srv)
		benchDecisions(b, q, q)
	})
}

func benchDecisions(b *testing.B, q alerts.Queue, ledger alerts.Ledger) {
	var mu sync.Mutex
	sent := map[string]time.Time{}
	var lat []time.Duration
	arrived := make(chan struct{}, 1<<16)
	prov := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/token") {
			fmt.Fprint(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"t"}`)
			return
		}
		user := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1.0/users/"), "/revokeSignInSessions")
		mu.Lock()
		if t0, ok := sent[user]; ok {
			lat = append(lat, time.Since(t0))
			delete(sent, user)
			arrived <- struct{}{}
		}
		mu.Unlock()
		time.Sleep(20 * time.Millisecond) // the provider's own work
		fmt.Fprint(w, `{"value":true}`)
	}))
	defer prov.Close()
	gcfg := graph.DefaultConfig()
	gcfg.TenantID, gcfg.ClientID, gcfg.LoginURL, gcfg.GraphURL = "t", "c", prov.URL, prov.URL+"/v1.0"
	g, err := graph.New(gcfg, graph.Options{LookupEnv: func(string) (string, bool) { return "secret", true }})
	if err != nil {
		b.Fatal(err)
	}
	sinkSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer sinkSrv.Close()
	soc := (&provider{srv: sinkSrv}).revoker(b) // a signed webhook as SOC sink
	d, stop := start(b, setup{queue: q, ledger: ledger, workers: 8, audit: alerts.AuditFunc(func(alerts.AuditRecord) {}),
		limits: alerts.LimitsConfig{MaxRevocations: 1 << 30, Window: time.Minute},
		sinks:  map[string]alerts.Notifier{"soc": soc, "lines": &sink{}},
		hooks:  map[string]alerts.Revoker{"graph": g}})
	defer stop()

	ctx, cancel := context.WithCancel(context.Background())
	var bg sync.WaitGroup
	bg.Go(func() { // background alerts, 500/s
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_, _ = d.Notify(ctx, detector.Alert{ID: fmt.Sprintf("bg-%d-%d", b.N, i), Rule: "new_location", Action: detector.ActionAlert})
			}
		}
	})
	b.ResetTimer()
	pace := time.NewTicker(5 * time.Millisecond)
	for i := range b.N {
		<-pace.C
		user := fmt.Sprintf("user%d-%d@example.org", b.N, i)
		mu.Lock()
		sent[user] = time.Now()
		mu.Unlock()
		a := revokeAlert(fmt.Sprintf("dec-%d-%d", b.N, i), user)
		if _, err := d.Notify(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
	for range b.N {
		<-arrived
	}
	b.StopTimer()
	pace.Stop()
	cancel()
	bg.Wait()
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max_ms")
}
