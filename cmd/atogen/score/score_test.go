package score

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/atod-project/atod/cmd/atogen/label"
	"github.com/atod-project/atod/detector"
)

var t0 = time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func testLabels() *label.Set {
	return &label.Set{
		Tenant: &label.Tenant{Users: 100, Days: 2, Start: at(-10 * time.Hour), End: at(38 * time.Hour)},
		Noise: []label.Noise{
			{Noise: label.NoiseClinicNAT, Users: []string{"c1@x", "c2@x"}},
			{Noise: label.NoiseMobileCarrier, Users: []string{"m1@x"}},
		},
		Attacks: []label.Attack{
			{Attack: label.AttackPhishedAbroad, ID: "a-1", Users: []string{"v1@x"}, IPs: []string{"6.6.6.6"},
				Compromised: []label.Compromise{{User: "v1@x", FirstSuccess: at(0)}}, Start: at(0), End: at(10 * time.Minute)},
			{Attack: label.AttackStuffing, ID: "a-2", Users: []string{"v2@x", "v3@x", "nobody@x"}, IPs: []string{"7.7.7.7"},
				Compromised: []label.Compromise{{User: "v2@x", FirstSuccess: at(time.Hour)}}, Start: at(55 * time.Minute), End: at(65 * time.Minute)},
			{Attack: label.AttackBruteForce, ID: "a-3", Users: []string{"v4@x"}, IPs: []string{"8.8.8.8"},
				Compromised: []label.Compromise{{User: "v4@x", FirstSuccess: at(2 * time.Hour)}}, Start: at(time.Hour), End: at(2 * time.Hour)},
		},
	}
}

func alert(d time.Duration, rule, user, ip, action string) detector.Alert {
	return detector.Alert{ID: rule + user + ip, Time: at(d), Rule: rule, User: user, IP: ip, Action: action}
}

func testInput() *Input {
	return &Input{
		Labels: testLabels(),
		Alerts: []detector.Alert{
			alert(30*time.Second, "impossible_travel", "V1@x", "6.6.6.6", detector.ActionRevoke), // a-1 revoked in 30 s
			alert(61*time.Minute, "credential_stuffing", "", "7.7.7.7", detector.ActionAlert),    // a-2 seen by address
			alert(75*time.Minute, "compromise_after_attack", "v2@x", "", detector.ActionRevoke),  // a-2 revoked late
			alert(62*time.Minute, "new_location", "v3@x", "84.128.0.9", detector.ActionAlert),    // a target: malicious
			alert(1*time.Hour, "impossible_travel", "m1@x", "176.0.0.1", detector.ActionAlert),   // benign, day 1
			alert(3*time.Hour, "impossible_travel", "m1@x", "176.0.0.2", detector.ActionAlert),   // same entity-day
			alert(20*time.Hour, "impossible_travel", "m1@x", "176.0.0.3", detector.ActionAlert),  // day 2
			alert(2*time.Hour, "new_location", "u9@x", "90.0.0.1", detector.ActionRevoke),        // benign revoke
			alert(72*time.Hour, "new_location", "v1@x", "90.0.0.2", detector.ActionAlert),        // long after a-1: benign
			alert(4*time.Hour, "password_spray", "", "9.9.9.9", detector.ActionAlert),            // clinic address
		},
		AddrUsers: map[string][]string{"9.9.9.9": {"c1@x", "c2@x", "m1@x"}},
	}
}

func TestCompute(t *testing.T) {
	r := Compute(testInput())
	if r.UserDays != 200 || r.Seen != 2 || len(r.Attacks) != 3 || r.Attacks[2].Seen {
		t.Errorf("seen %d of %d (user-days %d), a-3 seen %v", r.Seen, len(r.Attacks), r.UserDays, r.Attacks[2].Seen)
	}
	if got := r.Attacks[1].Rules; strings.Join(got, ",") != "compromise_after_attack,credential_stuffing,new_location" {
		t.Errorf("a-2 seen by %v", got)
	}
	if r.Compromised != 3 || r.Revoked != 1 || r.MedianDelay != 30 || r.MaxDelay != 30 {
		t.Errorf("revoked %d of %d, median %v max %v", r.Revoked, r.Compromised, r.MedianDelay, r.MaxDelay)
	}
	if late := r.Accounts[1]; late.Revoked || late.Delay != 15*60 {
		t.Errorf("late revocation: %+v", late)
	}
	if r.BenignAlerts != 6 || r.Benign.EntityDays != 5 || r.Benign.Per1000UserDays != 25 {
		t.Errorf("benign: %d alerts, %+v", r.BenignAlerts, r.Benign)
	}
	if r.BenignRevokes.EntityDays != 1 || r.BenignRevokes.Per1000UserDays != 5 {
		t.Errorf("benign revokes: %+v", r.BenignRevokes)
	}
	want := map[string]int{"mobile_carrier": 2, "clinic_nat": 1, "none": 2}
	for _, b := range r.ByNoise {
		if want[b.Name] != b.Alerts.EntityDays {
			t.Errorf("noise %s: %d entity-days, want %d", b.Name, b.Alerts.EntityDays, want[b.Name])
		}
		delete(want, b.Name)
	}
	if len(want) > 0 {
		t.Errorf("noise kinds missing: %v", want)
	}
	rules := map[string]int{}
	for _, b := range r.ByRule {
		rules[b.Name] = b.Alerts.EntityDays
	}
	if rules["impossible_travel"] != 2 || rules["new_location"] != 2 || rules["password_spray"] != 1 {
		t.Errorf("by rule: %v", rules)
	}
	if len(r.Failed) != 4 { // seen, revoked, benign revokes, benign alerts; the median is fine
		t.Errorf("failed targets: %q", r.Failed)
	}
}

func TestAddressAlertsWithoutEvents(t *testing.T) {
	in := testInput()
	in.AddrUsers = nil
	for _, b := range Compute(in).ByNoise {
		if b.Name == "clinic_nat" || (b.Name == "address" && b.Alerts.EntityDays != 1) {
			t.Errorf("without events: %+v", b)
		}
	}
}

func TestAllTargetsMet(t *testing.T) {
	in := &Input{Labels: testLabels()}
	in.Labels.Tenant.Users = 2000
	in.Alerts = []detector.Alert{
		alert(0, "impossible_travel", "v1@x", "6.6.6.6", detector.ActionRevoke),
		alert(time.Hour+20*time.Second, "compromise_after_attack", "", "7.7.7.7", detector.ActionRevoke),
		{Time: at(2*time.Hour + 40*time.Second), Rule: "brute_force", Users: []string{"v4@x"}, Action: detector.ActionRevoke},
		alert(20*time.Hour, "impossible_travel", "m1@x", "176.0.0.3", detector.ActionAlert),
	}
	in.Alerts[1].Users = []string{"v2@x"}
	r := Compute(in)
	if len(r.Failed) != 0 || r.Revoked != 3 || r.MedianDelay != 20 || r.MaxDelay != 40 {
		t.Errorf("failed %q, revoked %d, median %v, max %v", r.Failed, r.Revoked, r.MedianDelay, r.MaxDelay)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil || !strings.Contains(text.String(), "All targets met") {
		t.Errorf("text report: %v\n%s", err, text.String())
	}
}

func TestReports(t *testing.T) {
	r := Compute(testInput())
	var text, js bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Attacks seen: 2 of 3", "missed a-3 (brute_force)", "revoked late: v2@x",
		"not revoked: v4@x", "median 30s", "Benign alerts: 6, on 5 entity-days (25.00 per 1,000 user-days)", "Targets missed"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Seen != 2 || back.Benign.EntityDays != 5 {
		t.Errorf("JSON report: %v %+v", err, back.Benign)
	}
}

func TestReadAlerts(t *testing.T) {
	good := `{"id":"x","time":"2026-03-03T10:00:00Z","rule":"brute_force","user":"a@x","score":80,"severity":"high","action":"revoke_sessions","reasons":[],"evidence":[]}` + "\n\n"
	as, err := ReadAlerts(strings.NewReader(good))
	if err != nil || len(as) != 1 || as[0].Action != detector.ActionRevoke {
		t.Fatalf("ReadAlerts = %+v, %v", as, err)
	}
	if _, err := ReadAlerts(strings.NewReader(`{"id":"x"}`)); err == nil {
		t.Error("a line without rule and time was accepted")
	}
}
