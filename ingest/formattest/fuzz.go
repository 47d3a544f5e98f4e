package formattest

import (
	"bytes"
	"os"
	"runtime/metrics"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/atod-project/atod/ingest"
)

// Fuzz runs format's decoders on hostile records, seeded with the lines of
// the fixtures in dir (for CSV fixtures, the header and a row, separated by
// "\n"). A record must not panic, every event must be valid canonically,
// and decoding must not allocate more than a fixed multiple of the
// record's size.
func Fuzz(f *testing.F, format ingest.Format, dir string) {
	for _, path := range Fixtures(f, dir) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		lines := bytes.Split(data, []byte("\n"))
		for _, l := range lines {
			f.Add(l)
		}
		if strings.HasSuffix(path, ".csv") && len(lines) > 1 {
			for _, l := range lines[1:] {
				f.Add(append(append(bytes.Clone(lines[0]), '\n'), l...))
			}
		}
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		if format.Sniff != nil {
			format.Sniff(rec)
		}
		if format.New != nil {
			checkDecode(t, format, format.New(), rec)
		}
		if format.SniffHeader != nil && format.NewCSV != nil {
			header, row, _ := bytes.Cut(rec, []byte("\n"))
			format.SniffHeader(header)
			if dec, err := format.NewCSV(header); err == nil {
				checkDecode(t, format, dec, row)
			}
		}
	})
}

// allocated returns the bytes allocated so far. runtime/metrics reads it
// without stopping the world, which runtime.ReadMemStats does, and which
// stalls the fuzzing engine.
func allocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// allocBound is how much a decoder may allocate for a record of n bytes.
func allocBound(n int) uint64 { return 64*uint64(n) + 1<<20 }

func checkDecode(t *testing.T, format ingest.Format, dec ingest.Decoder, rec []byte) {
	var events []ingest.Event
	before := allocated()
	err := dec.Decode(rec, func(e ingest.Event) { events = append(events, e) })
	dec.Flush(func(e ingest.Event) { events = append(events, e) })
	if got := allocated() - before; got > allocBound(len(rec)) {
		t.Errorf("decoding %d bytes allocated %d bytes", len(rec), got)
	}
	if err != nil && err.Error() == "" {
		t.Errorf("error without a message")
	}
	for i := range events {
		Check(t, format.Name, &events[i])
	}
}

// Check reports what in e breaks the rules of a canonical event.
func Check(t testing.TB, source string, e *ingest.Event) {
	t.Helper()
	bad := func(what string) { t.Errorf("%s in %+v", what, *e) }
	if e.Source != source {
		bad("source")
	}
	if e.Time.IsZero() || e.Time.Location().String() != "UTC" || e.Time.Year() < 1970 || e.Time.Year() > 2200 {
		bad("time")
	}
	if e.User == "" || e.User != strings.TrimSpace(e.User) || e.User != strings.ToLower(e.User) || !utf8.ValidString(e.User) {
		bad("user")
	}
	if e.IP.IsValid() && (e.IP.Zone() != "" || e.IP.Is4In6()) {
		bad("ip")
	}
	switch e.Type {
	case ingest.TypeLogin:
		if !e.IP.IsValid() || (e.Outcome != ingest.OutcomeSuccess && e.Outcome != ingest.OutcomeFailure) {
			bad("login without address or outcome")
		}
	case ingest.TypeMailboxAccess:
	case ingest.TypeInboxRule:
		if e.Rule == nil {
			bad("inbox_rule without rule")
		}
	default:
		bad("type")
	}
	if e.Items < 0 || e.Items > ingest.MaxItems {
		bad("items")
	}
	for _, s := range []string{e.SessionID, e.DeviceID, e.ID, e.Tenant, e.Source} {
		if len(s) > ingest.MaxIDLen || !utf8.ValidString(s) {
			bad("identifier")
		}
	}
	if len(e.UserAgent) > ingest.MaxUserAgentLen {
		bad("user_agent")
	}
}
