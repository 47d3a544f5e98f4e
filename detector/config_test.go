package detector

import (
	"strings"
	"testing"
	"time"
)

// Every key is validated at start and a bad value stops the program with
// a message naming it (DESIGN.md); scores are 0–100 (detection.md). These
// keys were once not checked at all.
func TestConfigValidateChecksEveryScoreAndCount(t *testing.T) {
	for key, set := range map[string]func(*Config){
		"detector.mailbox.bulk_score":                func(c *Config) { c.Mailbox.BulkScore = 250 },
		"detector.mailbox.forward_score":             func(c *Config) { c.Mailbox.ForwardScore = -5 },
		"detector.mailbox.hide_score":                func(c *Config) { c.Mailbox.HideScore = 1000 },
		"detector.mailbox.bulk_min_items":            func(c *Config) { c.Mailbox.BulkMinItems = -1 },
		"detector.signin_risk.learning_logins":       func(c *Config) { c.SignIn.LearningLogins = -3 },
		"detector.signin_risk.org_learning":          func(c *Config) { c.SignIn.OrgLearning = -time.Hour },
		"detector.impossible_travel.min_distance_km": func(c *Config) { c.Travel.MinDistanceKm = -500 },
	} {
		cfg := DefaultConfig()
		set(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: bad value gave %v, want an error naming the key", key, err)
		}
	}
}
