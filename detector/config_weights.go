package detector

import (
	"fmt"
)

// validatePoints checks the keys that add points to a finding or count
// toward one: the sign-in weights, the mailbox scores and bonuses, and the
// counts and distances they depend on. Each is a share of the 0–100 score,
// and a negative count or distance would turn a rule on for everything or
// off for good without a word.
func (c *Config) validatePoints() []error {
	var errs []error
	points := func(key string, v int) {
		if v < 0 || v > 100 {
			errs = append(errs, fmt.Errorf("detector.%s: must be between 0 and 100, got %d", key, v))
		}
	}
	notNegative := func(key string, v float64) {
		if v < 0 {
			errs = append(errs, fmt.Errorf("detector.%s: must not be negative, got %g", key, v))
		}
	}
	w := &c.SignIn.Weights
	for _, p := range []struct {
		key string
		v   int
	}{
		{"new_country", w.NewCountry}, {"new_country_learning", w.NewCountryLearning},
		{"rare_country", w.RareCountry}, {"rare_country_learning", w.RareCountryLearning},
		{"new_asn", w.NewASN}, {"new_asn_learning", w.NewASNLearning}, {"far", w.Far},
		{"unfamiliar_client", w.UnfamiliarClient}, {"known_device_discount", w.KnownDevice},
		{"known_agent_discount", w.KnownAgent}, {"legacy_protocol", w.LegacyProtocol},
		{"tor", w.Tor}, {"hosting", w.Hosting}, {"vpn", w.VPN}, {"proxy", w.Proxy},
	} {
		points("signin_risk.weights."+p.key, p.v)
	}
	notNegative("signin_risk.weights.far_km", w.FarKm)
	notNegative("signin_risk.learning_logins", float64(c.SignIn.LearningLogins))
	if c.SignIn.OrgLearning < 0 {
		errs = append(errs, fmt.Errorf("detector.signin_risk.org_learning: must not be negative, got %s", c.SignIn.OrgLearning))
	}
	m := &c.Mailbox
	points("mailbox.bulk_score", m.BulkScore)
	points("mailbox.forward_score", m.ForwardScore)
	points("mailbox.hide_score", m.HideScore)
	points("mailbox.after_risky_bonus", m.AfterRiskyBonus)
	points("mailbox.unfamiliar_bonus", m.UnfamiliarBonus)
	if m.BulkMinItems < 1 {
		errs = append(errs, fmt.Errorf("detector.mailbox.bulk_min_items: must be at least 1, got %d", m.BulkMinItems))
	}
	notNegative("impossible_travel.min_distance_km", c.Travel.MinDistanceKm)
	return errs
}
