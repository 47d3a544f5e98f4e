package ingest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestDeadLetterWriter(t *testing.T) {
	var buf bytes.Buffer
	sink := NewDeadLetterWriter(&buf)
	ctx := context.Background()
	if err := sink.DeadLetter(ctx, DeadLetter{Source: "a.jsonl", Line: 7, Reason: "why", Raw: []byte(`{"x":"<é>"}`)}); err != nil {
		t.Fatal(err)
	}
	binary := []byte("bad \xff\xfe\x00 bytes")
	if err := sink.DeadLetter(ctx, DeadLetter{Source: "stdin", Line: 8, Reason: "not UTF-8", Raw: binary}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", buf.String())
	}
	if want := `{"source":"a.jsonl","line":7,"reason":"why","raw":"{\"x\":\"<é>\"}"}`; lines[0] != want {
		t.Errorf("got  %s\nwant %s", lines[0], want)
	}
	var rec struct {
		Source    string  `json:"source"`
		Line      int64   `json:"line"`
		Raw       *string `json:"raw"`
		RawBase64 string  `json:"raw_base64"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil {
		t.Fatal(err)
	}
	got, err := base64.StdEncoding.DecodeString(rec.RawBase64)
	if err != nil || !bytes.Equal(got, binary) || rec.Raw != nil || rec.Line != 8 {
		t.Errorf("record %s: raw bytes not preserved", lines[1])
	}
}

func TestDeadLetterWriterConcurrent(t *testing.T) {
	var buf bytes.Buffer
	sink := NewDeadLetterWriter(&buf)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				d := DeadLetter{Source: "s", Line: int64(g*1000 + i), Reason: "r", Raw: bytes.Repeat([]byte("x"), 100)}
				if err := sink.DeadLetter(context.Background(), d); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 1600 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("interleaved record %q", l)
		}
	}
}

func TestDeadLetterLogger(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	sink := DeadLetterLogger(zap.New(core))
	raw := []byte(strings.Repeat("secret ", 1000))
	if err := sink.DeadLetter(context.Background(), DeadLetter{Source: "in.gz", Line: 3, Reason: "bad", Raw: raw}); err != nil {
		t.Fatal(err)
	}
	entries := logs.All()
	if len(entries) != 1 {
		t.Fatalf("%d log entries", len(entries))
	}
	f := entries[0].ContextMap()
	if f["source"] != "in.gz" || f["line"] != int64(3) || f["reason"] != "bad" || f["raw_truncated"] != true {
		t.Errorf("fields %v", f)
	}
	if p, _ := f["raw_prefix"].(string); len(p) > deadLetterLogPrefix || !strings.HasPrefix(string(raw), p) {
		t.Errorf("raw prefix %q", p)
	}
}

func TestRunLogsDeadLettersByDefault(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	f := &Files{Paths: []string{"-"}, Stdin: strings.NewReader("oops\n" + idLine("1") + "\n"), Log: zap.New(core)}
	var got collector
	st, err := f.Run(context.Background(), &got, nil)
	if err != nil || st.DeadLetters != 1 || len(got.events) != 1 || logs.Len() != 1 {
		t.Fatalf("err %v, stats %+v, %d logs", err, st, logs.Len())
	}
}
