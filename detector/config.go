package detector

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config holds the rules' thresholds and the decision policy. The zero value
// is not useful: start from DefaultConfig and override.
type Config struct {
	// Lateness is how far out of event-time order an event may arrive and
	// still be processed in order; it is also how long the Sequencer holds
	// events back.
	Lateness time.Duration `yaml:"lateness"`
	// UserRetention and AddrRetention bound how long state is kept after an
	// account's or address's last event (personal data must expire).
	UserRetention time.Duration `yaml:"user_retention"`
	AddrRetention time.Duration `yaml:"addr_retention"`
	// IncidentGap is how long a rule must stay quiet for an entity before a
	// new finding opens a new incident (and a new alert) instead of joining
	// the open one.
	IncidentGap time.Duration `yaml:"incident_gap"`

	Travel     TravelConfig     `yaml:"impossible_travel"`
	AddrAttack AddrAttackConfig `yaml:"address_attack"`
	BruteForce BruteForceConfig `yaml:"brute_force"`
	MFAFatigue MFAFatigueConfig `yaml:"mfa_fatigue"`
	Spray      SprayConfig      `yaml:"distributed_spray"`
	SignIn     SignInConfig     `yaml:"signin_risk"`
	Session    SessionConfig    `yaml:"session_hijack"`
	Mailbox    MailboxConfig    `yaml:"mailbox"`
	Policy     Policy           `yaml:"policy"`
}

// SprayConfig tunes distributed password spraying across the organisation.
type SprayConfig struct {
	Enabled      bool          `yaml:"enabled"`
	Window       time.Duration `yaml:"window"`
	MinAccounts  int           `yaml:"min_accounts"`
	MinAddresses int           `yaml:"min_addresses"`
	// MaxAttemptsPerAccount keeps brute force (many attempts at a few
	// accounts) out of this rule.
	MaxAttemptsPerAccount float64 `yaml:"max_attempts_per_account"`
	Score                 int     `yaml:"score"`
}

// SignInConfig weighs what is unusual about a successful sign-in against
// the account's habits. The weights add up to the sign-in's risk score.
type SignInConfig struct {
	Enabled bool `yaml:"enabled"`
	// LearningLogins is how many successful sign-ins an account needs
	// before its habits count; until then "new" means little.
	LearningLogins int `yaml:"learning_logins"`
	// OrgLearning is how long the organisation is watched before a country
	// counts as rare for it.
	OrgLearning time.Duration `yaml:"org_learning"`
	// RiskMemory is how long a risky sign-in makes the account's mailbox
	// activity suspicious.
	RiskMemory time.Duration `yaml:"risk_memory"`
	// AnonymizerASNs are hosting and VPN networks to treat as anonymizers
	// even without the Anonymous-IP database.
	AnonymizerASNs []uint32      `yaml:"anonymizer_asns"`
	Weights        SignInWeights `yaml:"weights"`
}

// SignInWeights are the points each finding adds to a sign-in's risk.
// Discounts subtract.
type SignInWeights struct {
	NewCountry          int     `yaml:"new_country"`
	NewCountryLearning  int     `yaml:"new_country_learning"`
	RareCountry         int     `yaml:"rare_country"` // a country few accounts of the organisation use
	RareCountryLearning int     `yaml:"rare_country_learning"`
	NewASN              int     `yaml:"new_asn"`
	NewASNLearning      int     `yaml:"new_asn_learning"`
	Far                 int     `yaml:"far"`
	FarKm               float64 `yaml:"far_km"`
	UnfamiliarClient    int     `yaml:"unfamiliar_client"`
	KnownDevice         int     `yaml:"known_device_discount"`
	KnownAgent          int     `yaml:"known_agent_discount"`
	LegacyProtocol      int     `yaml:"legacy_protocol"`
	Tor                 int     `yaml:"tor"`
	Hosting             int     `yaml:"hosting"`
	VPN                 int     `yaml:"vpn"`
	Proxy               int     `yaml:"proxy"`
}

// SessionConfig tunes session hijacking: one session id used from two
// places no traveller could connect (impossible_travel's speed and
// distance).
type SessionConfig struct {
	Enabled bool `yaml:"enabled"`
	Score   int  `yaml:"score"`
}

// MailboxConfig tunes bulk reading and suspicious inbox rules.
type MailboxConfig struct {
	Enabled bool `yaml:"enabled"`
	// BulkMinItems is the tenant's floor: fewer items in an hour are never
	// bulk reading. BulkFactor is how far above the account's own busiest
	// hour reading must go.
	BulkMinItems int     `yaml:"bulk_min_items"`
	BulkFactor   float64 `yaml:"bulk_factor"`
	BulkScore    int     `yaml:"bulk_score"`
	// ForwardScore scores a rule sending mail outside InternalDomains (and
	// the account's own domain); HideScore one that deletes or hides mail.
	ForwardScore    int      `yaml:"forward_score"`
	HideScore       int      `yaml:"hide_score"`
	InternalDomains []string `yaml:"internal_domains"`
	// AfterRiskyBonus is added when the activity follows a risky sign-in
	// within signin_risk.risk_memory; UnfamiliarBonus when it comes from a
	// network the account does not use.
	AfterRiskyBonus int `yaml:"after_risky_bonus"`
	UnfamiliarBonus int `yaml:"unfamiliar_bonus"`
}

// TravelConfig tunes impossible travel between two successful sign-ins.
type TravelConfig struct {
	Enabled bool `yaml:"enabled"`
	// MaxSpeedKmh is the fastest plausible travel; airliners cruise at
	// about 900 km/h, so the default leaves a margin above that.
	MaxSpeedKmh float64 `yaml:"max_speed_kmh"`
	// MinDistanceKm ignores hops shorter than this after both accuracy radii
	// are subtracted: GeoIP is not precise enough below it.
	MinDistanceKm float64 `yaml:"min_distance_km"`
	// Overhead is added to the flight time of any hop: getting to and
	// from airports. Hamburg to Moscow in two hours is not a trip.
	Overhead time.Duration `yaml:"overhead"`
	Score    int           `yaml:"score"`
}

// AddrAttackConfig tunes credential stuffing and password spraying seen from
// one address.
type AddrAttackConfig struct {
	Enabled bool          `yaml:"enabled"`
	Window  time.Duration `yaml:"window"`
	// MinAccounts is how many distinct accounts must fail from the address
	// within Window.
	MinAccounts int `yaml:"min_accounts"`
	// MinFailShare is the least share of the address's accounts that only
	// failed; a shared NAT with many good sign-ins stays below it.
	MinFailShare float64 `yaml:"min_fail_share"`
	// StuffingUnknownShare: at or above this share of unknown accounts the
	// attack is called credential stuffing (lists from other breaches),
	// below it password spraying (valid accounts, common passwords).
	StuffingUnknownShare float64 `yaml:"stuffing_unknown_share"`
	// Memory is how long an address stays marked as attacking after its
	// last attempt, so that a later success from it is caught.
	Memory time.Duration `yaml:"memory"`
	Score  int           `yaml:"score"`
}

// BruteForceConfig tunes password guessing against one account.
type BruteForceConfig struct {
	Enabled bool          `yaml:"enabled"`
	Window  time.Duration `yaml:"window"`
	// MinFailures counts failures from addresses the account has not
	// signed in from before; failures from its own networks (a client with
	// an old password, a forgetful user) do not count.
	MinFailures int `yaml:"min_failures"`
	Score       int `yaml:"score"`
}

// MFAFatigueConfig tunes push-bombing: many denied MFA prompts then a success.
type MFAFatigueConfig struct {
	Enabled    bool          `yaml:"enabled"`
	Window     time.Duration `yaml:"window"`
	MinDenials int           `yaml:"min_denials"`
	Score      int           `yaml:"score"`
}

// Policy turns scores into actions.
type Policy struct {
	AlertScore  int `yaml:"alert_score"`  // findings below it are kept as signals only
	RevokeScore int `yaml:"revoke_score"` // findings about an account at or above it revoke its sessions
	// NeverRevoke lists accounts (break-glass admins) that are only ever
	// alerted on, never revoked automatically. Compared case-insensitively.
	NeverRevoke []string `yaml:"never_revoke"`
}

// DefaultConfig returns the thresholds atod ships with.
func DefaultConfig() Config {
	return Config{
		Lateness:      time.Minute,
		UserRetention: 30 * 24 * time.Hour,
		AddrRetention: 24 * time.Hour,
		IncidentGap:   time.Hour,
		Travel:        TravelConfig{Enabled: true, MaxSpeedKmh: 1000, MinDistanceKm: 500, Overhead: time.Hour, Score: 70},
		AddrAttack: AddrAttackConfig{Enabled: true, Window: 30 * time.Minute, MinAccounts: 8,
			MinFailShare: 0.7, StuffingUnknownShare: 0.25, Memory: 24 * time.Hour, Score: 75},
		BruteForce: BruteForceConfig{Enabled: true, Window: 30 * time.Minute, MinFailures: 10, Score: 70},
		MFAFatigue: MFAFatigueConfig{Enabled: true, Window: 15 * time.Minute, MinDenials: 3, Score: 95},
		Spray: SprayConfig{Enabled: true, Window: 6 * time.Hour, MinAccounts: 20, MinAddresses: 5,
			MaxAttemptsPerAccount: 2, Score: 75},
		SignIn: SignInConfig{Enabled: true, LearningLogins: 5, OrgLearning: 12 * time.Hour, RiskMemory: 24 * time.Hour,
			Weights: SignInWeights{NewCountry: 40, NewCountryLearning: 20, RareCountry: 35, RareCountryLearning: 50, NewASN: 15, NewASNLearning: 5,
				Far: 15, FarKm: 2000, UnfamiliarClient: 15, KnownDevice: 45, KnownAgent: 10, LegacyProtocol: 10,
				Tor: 50, Hosting: 40, VPN: 30, Proxy: 35}},
		Session: SessionConfig{Enabled: true, Score: 95},
		Mailbox: MailboxConfig{Enabled: true, BulkMinItems: 500, BulkFactor: 10, BulkScore: 60,
			ForwardScore: 55, HideScore: 45, AfterRiskyBonus: 35, UnfamiliarBonus: 15},
		Policy: Policy{AlertScore: 50, RevokeScore: 85},
	}
}

// Validate reports every bad value, each named by its config key under
// "detector.".
func (c *Config) Validate() error {
	var errs []error
	positive := func(key string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("detector.%s: must be positive, got %s", key, d))
		}
	}
	score := func(key string, s int) {
		if s < 0 || s > 100 {
			errs = append(errs, fmt.Errorf("detector.%s: must be between 0 and 100, got %d", key, s))
		}
	}
	if c.Lateness < 0 || c.Lateness > time.Hour {
		errs = append(errs, fmt.Errorf("detector.lateness: must be between 0 and 1h, got %s", c.Lateness))
	}
	positive("user_retention", c.UserRetention)
	positive("addr_retention", c.AddrRetention)
	positive("incident_gap", c.IncidentGap)
	positive("address_attack.window", c.AddrAttack.Window)
	positive("address_attack.memory", c.AddrAttack.Memory)
	positive("brute_force.window", c.BruteForce.Window)
	positive("mfa_fatigue.window", c.MFAFatigue.Window)
	positive("signin_risk.risk_memory", c.SignIn.RiskMemory)
	positive("distributed_spray.window", c.Spray.Window)
	if c.Spray.MinAccounts < 2 || c.Spray.MinAddresses < 1 || c.Spray.MaxAttemptsPerAccount < 1 {
		errs = append(errs, fmt.Errorf("detector.distributed_spray: min_accounts must be at least 2, min_addresses at least 1, max_attempts_per_account at least 1"))
	}
	score("distributed_spray.score", c.Spray.Score)
	if c.Mailbox.BulkFactor < 1 {
		errs = append(errs, fmt.Errorf("detector.mailbox.bulk_factor: must be at least 1"))
	}
	score("session_hijack.score", c.Session.Score)
	if c.Travel.Overhead < 0 {
		errs = append(errs, fmt.Errorf("detector.impossible_travel.overhead: must not be negative"))
	}
	if c.Travel.MaxSpeedKmh <= 0 {
		errs = append(errs, fmt.Errorf("detector.impossible_travel.max_speed_kmh: must be positive"))
	}
	if c.AddrAttack.MinAccounts < 2 {
		errs = append(errs, fmt.Errorf("detector.address_attack.min_accounts: must be at least 2"))
	}
	for _, share := range []struct {
		key string
		v   float64
	}{{"min_fail_share", c.AddrAttack.MinFailShare}, {"stuffing_unknown_share", c.AddrAttack.StuffingUnknownShare}} {
		if share.v < 0 || share.v > 1 {
			errs = append(errs, fmt.Errorf("detector.address_attack.%s: must be between 0 and 1", share.key))
		}
	}
	if c.BruteForce.MinFailures < 1 {
		errs = append(errs, fmt.Errorf("detector.brute_force.min_failures: must be at least 1"))
	}
	if c.MFAFatigue.MinDenials < 1 {
		errs = append(errs, fmt.Errorf("detector.mfa_fatigue.min_denials: must be at least 1"))
	}
	score("impossible_travel.score", c.Travel.Score)
	score("address_attack.score", c.AddrAttack.Score)
	score("brute_force.score", c.BruteForce.Score)
	score("mfa_fatigue.score", c.MFAFatigue.Score)
	score("policy.alert_score", c.Policy.AlertScore)
	score("policy.revoke_score", c.Policy.RevokeScore)
	if c.Policy.RevokeScore < c.Policy.AlertScore {
		errs = append(errs, fmt.Errorf("detector.policy.revoke_score: %d is below policy.alert_score %d",
			c.Policy.RevokeScore, c.Policy.AlertScore))
	}
	errs = append(errs, c.validatePoints()...)
	for i, u := range c.Policy.NeverRevoke {
		if strings.TrimSpace(u) == "" {
			errs = append(errs, fmt.Errorf("detector.policy.never_revoke[%d]: empty account name", i))
		}
	}
	return errors.Join(errs...)
}
