// Package ingest turns sign-in and mailbox logs into atod's canonical event
// (see DESIGN.md): sources read bytes, parsers validate them, and anything
// that cannot be used goes to a dead-letter output with the reason.
package ingest

import (
	"net/netip"
	"time"
)

// Event types of the canonical schema.
const (
	TypeLogin         = "login"
	TypeMailboxAccess = "mailbox_access"
	TypeInboxRule     = "inbox_rule"
)

// Outcomes of a login.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// Failure reasons of a login. ParseCanonical maps a reason it does not know
// to ReasonOther rather than refusing the event: sources invent reasons
// faster than this list grows, and the failure itself is the evidence.
const (
	ReasonBadPassword = "bad_password"
	ReasonUnknownUser = "unknown_user"
	ReasonMFADenied   = "mfa_denied"
	ReasonMFATimeout  = "mfa_timeout"
	ReasonLocked      = "locked"
	ReasonOther       = "other"
)

// Event is the canonical sign-in or mailbox event. Field names and JSON tags
// are the contract of DESIGN.md; the zero value of an optional field means the
// source did not say.
type Event struct {
	Time      time.Time  `json:"time"`
	User      string     `json:"user"`
	IP        netip.Addr `json:"ip,omitzero"`
	Type      string     `json:"type"`
	Outcome   string     `json:"outcome,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	SessionID string     `json:"session_id,omitempty"`
	Protocol  string     `json:"protocol,omitempty"`
	UserAgent string     `json:"user_agent,omitempty"`
	DeviceID  string     `json:"device_id,omitempty"`
	ID        string     `json:"id,omitempty"`
	Items     int        `json:"items,omitempty"`
	Rule      *InboxRule `json:"rule,omitempty"`
	Tenant    string     `json:"tenant,omitempty"`
	// Source names the log format the event was read from ("entra",
	// "m365", ...), so that an analyst can find the original record by
	// Source and ID; empty for events written canonically.
	Source string `json:"source,omitempty"`

	// Pos is where the event was read from a partitioned source, so that
	// the source can tell when every event of a record has been handled
	// and commit past it. Not part of the canonical schema.
	Pos Position `json:"-"`
}

// Position is a record's place in a Kafka topic: its partition and
// offset. Sources without partitions leave it zero.
type Position struct {
	Partition int32
	Offset    int64
}

// InboxRule is the mailbox rule an inbox_rule event created or changed.
type InboxRule struct {
	Name       string   `json:"name,omitempty"`
	ForwardTo  []string `json:"forward_to,omitempty"`
	RedirectTo []string `json:"redirect_to,omitempty"`
	Delete     bool     `json:"delete,omitempty"`
	MoveTo     string   `json:"move_to,omitempty"`
}

// IsLogin reports whether e is a sign-in attempt.
func (e *Event) IsLogin() bool { return e.Type == TypeLogin }

// Failed reports whether e is a failed sign-in attempt.
func (e *Event) Failed() bool { return e.Type == TypeLogin && e.Outcome == OutcomeFailure }

// Succeeded reports whether e is a successful sign-in.
func (e *Event) Succeeded() bool { return e.Type == TypeLogin && e.Outcome == OutcomeSuccess }
