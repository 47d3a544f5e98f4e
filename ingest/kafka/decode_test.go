package kafka

import (
	"errors"
	"strings"
	"testing"

	"github.com/atod-project/atod/ingest"
)

// greedyDecoder claims every record it is asked about and names itself in
// the event's source.
type greedyDecoder struct{}

func (greedyDecoder) Decode(rec []byte, emit func(ingest.Event)) error {
	emit(ingest.Event{User: "greedy", Source: "greedy"})
	return nil
}

func (greedyDecoder) Flush(func(ingest.Event)) {}

// With format auto a valid canonical event is read as one even if another
// format's sniffer would claim it, as in replay; anything else goes to the
// formats in order, and what none claims gets the canonical error.
func TestAutoDecodersCanonicalFirst(t *testing.T) {
	greedy := ingest.Format{Name: "greedy", Sniff: func(rec []byte) bool { return strings.Contains(string(rec), "greedy") },
		New: func() ingest.Decoder { return greedyDecoder{} }}
	d, err := newDecoders(FormatAuto, []ingest.Format{greedy, ingest.Canonical})
	if err != nil {
		t.Fatal(err)
	}
	canonical := `{"time":"2026-03-02T08:00:00Z","user":"greedy@example.org","ip":"198.51.100.7","type":"login","outcome":"success"}`
	evs, _, _, err := d.decode([]byte(canonical), nil)
	if err != nil || len(evs) != 1 || evs[0].User != "greedy@example.org" {
		t.Fatalf("canonical record: %+v, %v; want the canonical event", evs, err)
	}
	evs, _, _, err = d.decode([]byte(`{"greedy":true}`), nil)
	if err != nil || len(evs) != 1 || evs[0].Source != "greedy" {
		t.Fatalf("other record: %+v, %v; want the sniffing format's event", evs, err)
	}
	_, _, _, err = d.decode([]byte(`{"user":"x"}`), nil)
	var pe *ingest.ParseError
	if err == nil || !errors.As(err, &pe) {
		t.Fatalf("record no format claims: %v; want the canonical parse error", err)
	}
}
