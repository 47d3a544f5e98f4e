// Package label is the answer key of a synthetic tenant: which events are
// attacks, which users carry benign noise, and the tenant's size. The
// generator writes it and the scorer reads it, so both agree on one format
// (labels.jsonl, one JSON object per line).
package label

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Record kinds: the "kind" field of every line.
const (
	KindTenant = "tenant"
	KindNoise  = "noise"
	KindAttack = "attack"
)

// Attack kinds, one per scenario the detector must catch.
const (
	AttackPhishedAbroad  = "phished_abroad"
	AttackDomesticVPN    = "domestic_vpn_bulk_read"
	AttackStuffing       = "credential_stuffing"
	AttackSpray          = "password_spray"
	AttackBruteForce     = "brute_force"
	AttackSessionReplay  = "session_replay"
	AttackMFAFatigue     = "mfa_fatigue"
	AttackForwardingRule = "forwarding_rule"
)

// AttackKinds lists the attack kinds in report order.
var AttackKinds = []string{
	AttackPhishedAbroad, AttackDomesticVPN, AttackStuffing, AttackSpray,
	AttackBruteForce, AttackSessionReplay, AttackMFAFatigue, AttackForwardingRule,
}

// Noise kinds: benign behaviour that naive rules mistake for attacks.
const (
	NoiseMobileCarrier = "mobile_carrier" // country-centre geolocation, 1000 km radius
	NoiseRoaming       = "roaming"        // phone egresses at home while the laptop is abroad
	NoiseCorpVPN       = "corp_vpn_two_continents"
	NoiseClinicNAT     = "clinic_nat"      // many staff behind one address
	NoiseTrip          = "trip"            // real flights abroad and back
	NoisePoller        = "imap_poller"     // clients polling every few minutes
	NoiseStaleClient   = "stale_client"    // old password kept failing after a change
	NoiseForgotPass    = "forgot_password" // ~10 failures, then success
	NoiseSelfForward   = "self_forward"    // forwarding to one's own private address
)

// NoiseKinds lists the noise kinds in report order.
var NoiseKinds = []string{
	NoiseMobileCarrier, NoiseRoaming, NoiseCorpVPN, NoiseClinicNAT, NoiseTrip,
	NoisePoller, NoiseStaleClient, NoiseForgotPass, NoiseSelfForward,
}

// Tenant describes the whole synthetic tenant; the scorer derives user-days
// from it.
type Tenant struct {
	Kind  string    `json:"kind"`
	Users int       `json:"users"`
	Days  int       `json:"days"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Seed  uint64    `json:"seed"`
}

// Noise names the users that carry one kind of benign noise.
type Noise struct {
	Kind  string   `json:"kind"`
	Noise string   `json:"noise"`
	Users []string `json:"users"`
}

// Compromise is one account the attacker got into, and when: the time of the
// first malicious success, from which revocation delay is measured.
type Compromise struct {
	User         string    `json:"user"`
	FirstSuccess time.Time `json:"first_success"`
}

// Attack is one labelled attack. Users are the targeted accounts (for
// stuffing and spraying, every targeted name, known or not); IPs the
// attacker's addresses; Events the ids of every malicious event.
type Attack struct {
	Kind        string       `json:"kind"`
	Attack      string       `json:"attack"`
	ID          string       `json:"id"`
	Users       []string     `json:"users"`
	IPs         []string     `json:"ips"`
	Compromised []Compromise `json:"compromised"`
	Events      []string     `json:"events"`
	Start       time.Time    `json:"start"`
	End         time.Time    `json:"end"`
}

// Set is the content of one labels file.
type Set struct {
	Tenant  *Tenant
	Noise   []Noise
	Attacks []Attack
}

// Write writes the set as JSON lines: the tenant first, then noise groups,
// then attacks, so the file reads top-down.
func Write(w io.Writer, s *Set) error {
	enc := json.NewEncoder(w)
	if s.Tenant != nil {
		t := *s.Tenant
		t.Kind = KindTenant
		if err := enc.Encode(t); err != nil {
			return err
		}
	}
	for _, n := range s.Noise {
		n.Kind = KindNoise
		if err := enc.Encode(n); err != nil {
			return err
		}
	}
	for _, a := range s.Attacks {
		a.Kind = KindAttack
		if err := enc.Encode(a); err != nil {
			return err
		}
	}
	return nil
}

// Read parses a labels file. Lines of an unknown kind are an error: a
// scorer that skipped them would report on half an answer key.
func Read(r io.Reader) (*Set, error) {
	s := &Set{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 64*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var head struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(line, &head); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		var err error
		switch head.Kind {
		case KindTenant:
			s.Tenant = &Tenant{}
			err = json.Unmarshal(line, s.Tenant)
		case KindNoise:
			var v Noise
			err = json.Unmarshal(line, &v)
			s.Noise = append(s.Noise, v)
		case KindAttack:
			var v Attack
			err = json.Unmarshal(line, &v)
			s.Attacks = append(s.Attacks, v)
		default:
			err = fmt.Errorf("unknown kind %q", head.Kind)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return s, nil
}
