package detector

import (
	"time"

	"github.com/atod-project/atod/ingest"
)

// Actions an alert asks for.
const (
	ActionAlert  = "alert"           // for the SOC to look at
	ActionRevoke = "revoke_sessions" // the hooks end the account's sessions
)

// Severities, derived from the score by SeverityOf.
const (
	SeverityLow      = "low"
	SeverityMedium   = "medium"
	SeverityHigh     = "high"
	SeverityCritical = "critical"
)

// Alert is atod's output record; the JSON shape is the contract of DESIGN.md.
// Every field but DetectedAt is a function of the input events and the
// config, so a replay writes byte-identical alerts.
type Alert struct {
	ID         string     `json:"id"`
	Time       time.Time  `json:"time"`
	Rule       string     `json:"rule"`
	User       string     `json:"user"`
	Users      []string   `json:"users,omitempty"`
	IP         string     `json:"ip,omitempty"`
	Score      int        `json:"score"`
	Severity   string     `json:"severity"`
	Action     string     `json:"action"`
	Reasons    []string   `json:"reasons"`
	Evidence   []string   `json:"evidence"`
	Geo        *AlertGeo  `json:"geo,omitempty"`
	Tenant     string     `json:"tenant,omitempty"`
	DetectedAt *time.Time `json:"detected_at,omitempty"`

	// Pos is where the event that raised the alert was read from: live
	// mode keeps each Kafka partition's alerts in an outbox of its own
	// until they are published, also when one batch ran the events of
	// several partitions. Not part of the alert schema.
	Pos ingest.Position `json:"-"`
}

// AlertGeo is where the alert's address is, as far as GeoIP knows.
type AlertGeo struct {
	Country string `json:"country,omitempty"`
	City    string `json:"city,omitempty"`
	ASN     uint32 `json:"asn,omitempty"`
	Org     string `json:"org,omitempty"`
}

// SeverityOf maps a 0–100 score to a severity.
func SeverityOf(score int) string {
	switch {
	case score >= 90:
		return SeverityCritical
	case score >= 70:
		return SeverityHigh
	case score >= 40:
		return SeverityMedium
	default:
		return SeverityLow
	}
}
