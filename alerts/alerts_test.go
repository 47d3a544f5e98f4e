package alerts

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/detector"
)

func sample(id string) detector.Alert {
	return detector.Alert{ID: id, Time: time.Date(2026, 3, 2, 8, 0, 0, 250e6, time.UTC), Rule: "brute_force",
		User: "anna@example.org", IP: "2001:db8::1", Score: 70, Severity: "high", Action: "alert",
		Reasons: []string{"12 failed sign-ins <from> abroad & more"}, Evidence: []string{"e1"}}
}

func TestJSONLinesFormat(t *testing.T) {
	var buf bytes.Buffer
	j := NewJSONLines(&buf)
	for _, id := range []string{"a1", "a2"} {
		if _, err := j.Notify(context.Background(), sample(id)); err != nil {
			t.Fatal(err)
		}
	}
	if buf.Len() != 0 {
		t.Error("output not buffered until Flush")
	}
	if err := j.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := `{"id":"a1","time":"2026-03-02T08:00:00.25Z","rule":"brute_force","user":"anna@example.org","ip":"2001:db8::1","score":70,"severity":"high","action":"alert","reasons":["12 failed sign-ins <from> abroad & more"],"evidence":["e1"]}`
	if len(lines) != 2 || lines[0] != want {
		t.Errorf("got\n%s\nwant first line\n%s", buf.String(), want)
	}
}
