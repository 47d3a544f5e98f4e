package label

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	in := &Set{
		Tenant: &Tenant{Kind: KindTenant, Users: 10, Days: 1, Start: t0, End: t0.Add(24 * time.Hour), Seed: 3},
		Noise:  []Noise{{Kind: KindNoise, Noise: NoiseTrip, Users: []string{"a@x"}}},
		Attacks: []Attack{{Kind: KindAttack, Attack: AttackSpray, ID: "a-1", Users: []string{"b@x"}, IPs: []string{"1.2.3.4"},
			Compromised: []Compromise{{User: "b@x", FirstSuccess: t0.Add(time.Hour)}}, Events: []string{"e1"}, Start: t0, End: t0}},
	}
	var buf bytes.Buffer
	if err := Write(&buf, in); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), `{"kind":"tenant","users":10,`) {
		t.Errorf("tenant line: %s", buf.String())
	}
	out, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n%+v\n%+v", in, out)
	}
	if _, err := Read(strings.NewReader(`{"kind":"surprise"}`)); err == nil {
		t.Error("an unknown kind was accepted")
	}
}
