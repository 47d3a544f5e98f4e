package alerts

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// A rotation that fails (here the backup name is held by a directory) costs
// a larger file, not the sink: later alerts are still written.
func TestRotatingFileSurvivesFailedRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	f, err := OpenRotating(path, 100, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Something holds the backup name: renaming alerts.jsonl onto a
	// non-empty directory fails.
	if err := os.MkdirAll(filepath.Join(path+".1", "busy"), 0o755); err != nil {
		t.Fatal(err)
	}
	sink := NewLineSink(f)
	if _, err := sink.Notify(context.Background(), sample("first")); err != nil {
		t.Fatal(err)
	}
	_, _ = sink.Notify(context.Background(), sample("second")) // rotation fails: an error is acceptable here
	if err := os.RemoveAll(path + ".1"); err != nil {          // the obstruction is gone
		t.Fatal(err)
	}
	if _, err := sink.Notify(context.Background(), sample("third")); err != nil {
		t.Fatalf("one failed rotation left the file sink dead for good: %v", err)
	}
}

// A write cut short (a full disk; here the file-size limit) is cut off
// again, so that the next alert is a whole line of its own.
func TestRotatingFileShortWriteCutOff(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	f, err := OpenRotating(path, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sink := NewLineSink(f)
	if _, err := sink.Notify(context.Background(), sample("first")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// The file may grow only 20 more bytes: the next line is cut short,
	// as on a full disk. Go ignores SIGXFSZ, so the write returns EFBIG.
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skip(err)
	}
	lim := old
	lim.Cur = uint64(st.Size()) + 20
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skip(err)
	}
	_, err = sink.Notify(context.Background(), sample("second"))
	if rerr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); rerr != nil {
		t.Fatal(rerr)
	}
	if err == nil {
		t.Skip("the write was not cut short on this system")
	}
	if _, err := sink.Notify(context.Background(), sample("third")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	var ids []string
	for sc.Scan() {
		var a struct{ ID string }
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Errorf("corrupt line in the alert file: %q", sc.Text())
			continue
		}
		ids = append(ids, a.ID)
	}
	if len(ids) == 0 || ids[len(ids)-1] != "third" {
		t.Errorf("alert \"third\" was reported written but cannot be read back; ids %q", ids)
	}
}
