package alerts

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

func TestRotatingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	f, err := OpenRotating(path, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	sink := NewLineSink(f)
	for i := range 5 {
		a := sample(strings.Repeat("x", 10) + string(rune('a'+i)))
		if _, err := sink.Notify(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// Each line is longer than 100 bytes: one per file, two backups kept.
	for name, want := range map[string]string{"": "xxxxxxxxxxe", ".1": "xxxxxxxxxxd", ".2": "xxxxxxxxxxc"} {
		b, err := os.ReadFile(path + name)
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ ID string }
		if err := json.Unmarshal(b, &got); err != nil || got.ID != want || strings.Count(string(b), "\n") != 1 {
			t.Errorf("%s: %q (%v)", path+name, b, err)
		}
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("a third backup was kept: %v", err)
	}
}

func TestAuditLogAndCounter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	f, err := OpenRotating(path, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := NewAuditCounter()
	a := Audits(NewAuditLog(f, zap.NewNop()), c, nil)
	at := time.Date(2026, 3, 2, 8, 11, 1, 0, time.UTC)
	a.Audit(AuditRecord{Time: at, Event: AuditDecision, AlertID: "a1", User: "anna@example.org", Outcome: OutcomeSkipped, Reason: ReasonCooldown})
	a.Audit(AuditRecord{Time: at, Event: AuditRevoke, AlertID: "a1", Target: "graph", Outcome: OutcomeDone, Attempts: 2, LatencyMS: 812.5})
	f.Close()
	b, _ := os.ReadFile(path)
	want := `{"time":"2026-03-02T08:11:01Z","event":"decision","alert_id":"a1","user":"anna@example.org","outcome":"skipped","reason":"cooldown"}
{"time":"2026-03-02T08:11:01Z","event":"revoke","alert_id":"a1","target":"graph","outcome":"done","attempts":2,"latency_ms":812.5}
`
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
	if c.Count(AuditRevoke, "graph", OutcomeDone, "") != 1 || c.Count(AuditDecision, "", OutcomeSkipped, ReasonCooldown) != 1 {
		t.Errorf("counts %v", c.Snapshot())
	}
}
