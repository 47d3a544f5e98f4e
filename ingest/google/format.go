// Package google reads Google Workspace audit activities as the Admin SDK
// Reports API returns them (activities.list pages of "items", or one
// activity per line): the login application's sign-ins, failures and
// challenges, and the forwarding of a user's Gmail to another domain.
package google

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/atod-project/atod/ingest"
)

// Name is the format's name for --format and the source of its events.
const Name = "google"

// Format returns the Google Workspace Reports API activity format.
func Format() ingest.Format {
	return ingest.Format{
		Name:        Name,
		Description: "Google Workspace Admin SDK Reports API activities: login, and Gmail forwarding (user_accounts)",
		Sniff:       sniff,
		New:         func() ingest.Decoder { return decoder{} },
		Stateless:   true,
	}
}

// sniff looks for the kind of an activity or a page of them, or for the
// activity id's fields.
func sniff(rec []byte) bool {
	if i := bytes.Index(rec, []byte("#reports#activit")); i >= len(`"admin`) && string(rec[i-len(`"admin`):i]) == `"admin` {
		return true
	}
	return ingest.HasKey(rec, "applicationName") && ingest.HasKey(rec, "uniqueQualifier")
}

type decoder struct{}

func (decoder) Decode(rec []byte, emit func(ingest.Event)) error {
	parts, ok, err := ingest.Envelope(rec, "items")
	if err != nil {
		return fmt.Errorf("google: %w", err)
	}
	if !ok {
		return decodeActivity(rec, emit)
	}
	return ingest.EachRecord(parts, decodeActivity, emit)
}

func (decoder) Flush(func(ingest.Event)) {}

// activity is one entry of activities.list.
type activity struct {
	ID struct {
		Time            string      `json:"time"`
		UniqueQualifier ingest.Text `json:"uniqueQualifier"`
		ApplicationName string      `json:"applicationName"`
		CustomerID      string      `json:"customerId"`
	} `json:"id"`
	Actor struct {
		Email string `json:"email"`
	} `json:"actor"`
	IPAddress string  `json:"ipAddress"`
	Events    []event `json:"events"`
}

type event struct {
	Type       string  `json:"type"`
	Name       string  `json:"name"`
	Parameters []param `json:"parameters"`
}

type param struct {
	Name       string      `json:"name"`
	Value      ingest.Text `json:"value"`
	BoolValue  *bool       `json:"boolValue"`
	IntValue   ingest.Text `json:"intValue"`
	MultiValue []string    `json:"multiValue"`
}

// param returns a parameter's value as text, multiple values joined by ",".
func (e *event) param(name string) string {
	for _, p := range e.Parameters {
		if p.Name != name {
			continue
		}
		switch {
		case p.Value != "":
			return string(p.Value)
		case p.BoolValue != nil:
			return strconv.FormatBool(*p.BoolValue)
		case p.IntValue != "":
			return string(p.IntValue)
		default:
			return strings.Join(p.MultiValue, ",")
		}
	}
	return ""
}

func decodeActivity(rec []byte, emit func(ingest.Event)) error {
	var a activity
	if err := json.Unmarshal(rec, &a); err != nil {
		return fmt.Errorf("google: %w", err)
	}
	id := string(a.ID.UniqueQualifier)
	app := a.ID.ApplicationName
	if app != "login" && app != "user_accounts" {
		return fmt.Errorf("%w: google application %q", ingest.ErrSkip, app)
	}
	var out []ingest.Event
	for i := range a.Events {
		f, ok := fields(&a.Events[i])
		if !ok {
			continue
		}
		f.User, f.IP, f.Tenant, f.Source, f.ID = a.Actor.Email, a.IPAddress, a.ID.CustomerID, Name, id
		if len(out) > 0 {
			// Several events of one activity share its id; each needs its own.
			f.ID = id + "#" + strconv.Itoa(i)
		}
		if f.User == "" {
			return fmt.Errorf("google: activity %s: field %q is required", id, "actor.email")
		}
		t, err := ingest.ParseTime(a.ID.Time)
		if err != nil {
			return fmt.Errorf("google: activity %s: field %q: %w", id, "id.time", err)
		}
		f.Time = t
		if f.Type == ingest.TypeLogin && f.IP == "" {
			return fmt.Errorf("google: activity %s: field %q is required for %s", id, "ipAddress", a.Events[i].Name)
		}
		e, err := f.Event()
		if err != nil {
			return fmt.Errorf("google: activity %s: %w", id, err)
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return fmt.Errorf("%w: google %s activity without a sign-in or forwarding event", ingest.ErrSkip, app)
	}
	for _, e := range out {
		emit(e)
	}
	return nil
}
