package score

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the result of scoring; its JSON form is for machines (-json).
type Report struct {
	Alerts   int `json:"alerts"`
	Users    int `json:"users"`
	Days     int `json:"days"`
	UserDays int `json:"user_days"`

	Seen    int            `json:"attacks_seen"`
	Attacks []AttackResult `json:"attacks"`
	ByKind  []KindResult   `json:"attacks_by_kind"`

	Compromised int             `json:"compromised"`
	Revoked     int             `json:"revoked_within_10m"`
	MedianDelay Seconds         `json:"median_delay_s"`
	MaxDelay    Seconds         `json:"max_delay_s"`
	Accounts    []AccountResult `json:"accounts"`

	BenignAlerts  int         `json:"benign_alerts"`
	Benign        Rate        `json:"benign_alert_entity_days"`
	BenignRevokes Rate        `json:"benign_revoke_entity_days"`
	ByRule        []Breakdown `json:"benign_by_rule"`
	ByNoise       []Breakdown `json:"benign_by_noise"`

	Failed []string `json:"failed_targets"`
}

// AttackResult says whether and how an attack was seen.
type AttackResult struct {
	ID         string    `json:"id"`
	Kind       string    `json:"attack"`
	Seen       bool      `json:"seen"`
	FirstAlert time.Time `json:"first_alert,omitzero"`
	Rules      []string  `json:"rules"`
}

// KindResult sums attacks of one kind.
type KindResult struct {
	Kind  string `json:"attack"`
	Total int    `json:"total"`
	Seen  int    `json:"seen"`
}

// AccountResult is one compromised account. Delay is set whenever some
// revocation followed, even a late one; Revoked only when within 10 minutes.
type AccountResult struct {
	Attack       string    `json:"attack_id"`
	Kind         string    `json:"attack"`
	User         string    `json:"user"`
	FirstSuccess time.Time `json:"first_success"`
	Revoked      bool      `json:"revoked"`
	RevokedAt    time.Time `json:"revoked_at,omitzero"`
	Delay        Seconds   `json:"delay_s,omitempty"`
}

// Rate is a count of entity-days and the same per 1,000 user-days.
type Rate struct {
	EntityDays      int     `json:"entity_days"`
	Per1000UserDays float64 `json:"per_1000_user_days"`
}

// Breakdown is the benign alerts and revocations under one heading.
type Breakdown struct {
	Name    string `json:"name"`
	Alerts  Rate   `json:"alerts"`
	Revokes Rate   `json:"revokes"`
}

// Seconds is a duration in seconds, a plain number in JSON.
type Seconds float64

// Duration converts back.
func (s Seconds) Duration() time.Duration { return time.Duration(float64(s) * float64(time.Second)) }

func (s Seconds) String() string { return s.Duration().Round(time.Second).String() }

// check lists the targets that were missed.
func (r *Report) check() {
	r.Failed = []string{}
	fail := func(format string, args ...any) { r.Failed = append(r.Failed, fmt.Sprintf(format, args...)) }
	if r.Seen < len(r.Attacks) {
		fail("every attack seen: %d of %d", r.Seen, len(r.Attacks))
	}
	if r.Revoked < r.Compromised {
		fail("every compromised account revoked within %v: %d of %d", RevokeWithin, r.Revoked, r.Compromised)
	}
	if r.Revoked > 0 && r.MedianDelay.Duration() >= MaxMedianDelay {
		fail("median revocation delay under %v: %v", MaxMedianDelay, r.MedianDelay)
	}
	if r.BenignRevokes.Per1000UserDays > MaxBenignRevokes {
		fail("benign revokes at most %.1f per 1,000 user-days: %.2f", MaxBenignRevokes, r.BenignRevokes.Per1000UserDays)
	}
	if r.Benign.Per1000UserDays > MaxBenignAlerts {
		fail("benign alerts at most %d per 1,000 user-days: %.2f", MaxBenignAlerts, r.Benign.Per1000UserDays)
	}
}

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d alerts; %d users x %d days = %d user-days\n\n", r.Alerts, r.Users, r.Days, r.UserDays)

	fmt.Fprintf(&b, "Attacks seen: %d of %d\n", r.Seen, len(r.Attacks))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, k := range r.ByKind {
		fmt.Fprintf(tw, "  %s\t%d/%d\n", k.Kind, k.Seen, k.Total)
	}
	tw.Flush()
	for _, a := range r.Attacks {
		if !a.Seen {
			fmt.Fprintf(&b, "  missed %s (%s)\n", a.ID, a.Kind)
		}
	}

	fmt.Fprintf(&b, "\nCompromised accounts revoked within %v: %d of %d\n", RevokeWithin, r.Revoked, r.Compromised)
	if r.Revoked > 0 {
		fmt.Fprintf(&b, "  delay: median %v, max %v\n", r.MedianDelay, r.MaxDelay)
	}
	for _, a := range r.Accounts {
		switch {
		case a.Revoked:
		case a.RevokedAt.IsZero():
			fmt.Fprintf(&b, "  not revoked: %s (%s %s)\n", a.User, a.Attack, a.Kind)
		default:
			fmt.Fprintf(&b, "  revoked late: %s (%s %s) after %v\n", a.User, a.Attack, a.Kind, a.Delay)
		}
	}

	fmt.Fprintf(&b, "\nBenign alerts: %d, on %d entity-days (%.2f per 1,000 user-days)\n",
		r.BenignAlerts, r.Benign.EntityDays, r.Benign.Per1000UserDays)
	fmt.Fprintf(&b, "Benign revokes: %d entity-days (%.2f per 1,000 user-days)\n",
		r.BenignRevokes.EntityDays, r.BenignRevokes.Per1000UserDays)
	breakdown(&b, "by rule", r.ByRule)
	breakdown(&b, "by noise kind of the user", r.ByNoise)

	if len(r.Failed) == 0 {
		fmt.Fprintf(&b, "\nAll targets met.\n")
	} else {
		fmt.Fprintf(&b, "\nTargets missed:\n")
		for _, f := range r.Failed {
			fmt.Fprintf(&b, "  %s\n", f)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func breakdown(b *strings.Builder, title string, rows []Breakdown) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "  %s (entity-days, per 1,000 user-days):\n", title)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "    \talerts\t\trevokes\t\t\n")
	for _, row := range rows {
		fmt.Fprintf(tw, "    %s\t%d\t%s\t%d\t%s\t\n", row.Name,
			row.Alerts.EntityDays, perMille(row.Alerts.Per1000UserDays),
			row.Revokes.EntityDays, perMille(row.Revokes.Per1000UserDays))
	}
	tw.Flush()
}

func perMille(x float64) string { return fmt.Sprintf("%.2f", math.Round(x*100)/100) }
