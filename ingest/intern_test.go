package ingest

import (
	"strings"
	"testing"
	"unsafe"
)

func TestInternTable(t *testing.T) {
	tab := newInternTable(4)
	b := []byte("Mozilla/5.0")
	first := tab.intern(b)
	b[0] = 'X' // the table keeps its own copy
	if first != "Mozilla/5.0" {
		t.Fatalf("intern = %q, changed with its input", first)
	}
	again := tab.intern([]byte("Mozilla/5.0"))
	if again != first || unsafe.StringData(again) != unsafe.StringData(first) {
		t.Errorf("second intern did not return the first copy")
	}
	// More values than slots: every answer is still right.
	for i := range 100 {
		v := strings.Repeat("v", i+1)
		if got := tab.intern([]byte(v)); got != v {
			t.Fatalf("intern(%q) = %q", v, got)
		}
	}
	if got := tab.intern(nil); got != "" {
		t.Errorf("intern(nil) = %q", got)
	}
	long := strings.Repeat("l", maxInterned+1)
	if got := tab.intern([]byte(long)); got != long {
		t.Errorf("intern of a long value = %q", got)
	}
	for i := range tab.slots {
		if p := tab.slots[i].Load(); p != nil && len(*p) > maxInterned {
			t.Errorf("table kept a value of %d bytes", len(*p))
		}
	}
}

// TestParseCanonicalInternedFields checks fields served from the intern
// table across lines, including a long user agent that goes to the arena
// and a tenant over MaxIDLen, which must still be shortened.
func TestParseCanonicalInternedFields(t *testing.T) {
	longUA := strings.Repeat("a", maxInterned+10)
	longTenant := strings.Repeat("t", MaxIDLen+10)
	for range 2 {
		e, err := ParseCanonical([]byte(line("user_agent", `"`+longUA+`"`, "tenant", `"`+longTenant+`"`, "source", `"entra"`)))
		if err != nil {
			t.Fatal(err)
		}
		if e.UserAgent != longUA || e.Source != "entra" || len(e.Tenant) != MaxIDLen || !strings.HasPrefix(e.Tenant, "ttt") {
			t.Errorf("got user_agent %d bytes, tenant %q, source %q", len(e.UserAgent), e.Tenant, e.Source)
		}
		e, err = ParseCanonical([]byte(line("user_agent", `"ua"`, "tenant", `"contoso"`)))
		if err != nil {
			t.Fatal(err)
		}
		if e.UserAgent != "ua" || e.Tenant != "contoso" || e.Source != "" {
			t.Errorf("got %+v", e)
		}
	}
}
