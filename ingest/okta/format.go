// Package okta reads Okta System Log events, as the System Log API pages
// them (JSON arrays), as log streaming to AWS EventBridge wraps them
// ({"detail": event}), as event hooks deliver them ({"data": {"events":
// [...]}}), or one per line.
//
// Sign-ins (user.session.start, user.authentication.*), MFA failures and
// denied Okta Verify pushes, and sign-on policy denials become logins; the
// session id is authenticationContext.externalSessionId, which Okta keeps
// for the whole browser session, so a stolen session cookie used elsewhere
// shows as the same session from another place.
package okta

import (
	"encoding/json"
	"fmt"

	"github.com/atod-project/atod/ingest"
)

// Name is the format's name for --format and the source of its events.
const Name = "okta"

// Format returns the Okta System Log format.
func Format() ingest.Format {
	return ingest.Format{
		Name:        Name,
		Description: "Okta System Log events: System Log API pages, log streaming (EventBridge), event hooks",
		Sniff:       sniff,
		New:         func() ingest.Decoder { return decoder{} },
		Stateless:   true,
	}
}

// sniff looks for the eventType and published time of a System Log event.
func sniff(rec []byte) bool {
	return ingest.HasKey(rec, "eventType") && ingest.HasKey(rec, "published")
}

type decoder struct{}

func (decoder) Decode(rec []byte, emit func(ingest.Event)) error {
	parts, ok, err := ingest.Envelope(rec, "detail", "data")
	if err != nil {
		return fmt.Errorf("okta: %w", err)
	}
	if !ok {
		return decodeEvent(rec, emit)
	}
	return ingest.EachRecord(parts, decodeWrapped, emit)
}

func (decoder) Flush(func(ingest.Event)) {}

// decodeWrapped decodes what an envelope held: an event, or an event hook's
// data, whose events are a list.
func decodeWrapped(rec []byte, emit func(ingest.Event)) error {
	parts, ok, err := ingest.Envelope(rec, "events")
	if err != nil {
		return fmt.Errorf("okta: %w", err)
	}
	if !ok {
		return decodeEvent(rec, emit)
	}
	return ingest.EachRecord(parts, decodeEvent, emit)
}

// logEvent holds the fields atod reads from a System Log event.
type logEvent struct {
	UUID                  string      `json:"uuid"`
	Published             string      `json:"published"`
	EventType             string      `json:"eventType"`
	Actor                 actor       `json:"actor"`
	Client                client      `json:"client"`
	Device                *device     `json:"device"`
	Outcome               outcome     `json:"outcome"`
	AuthenticationContext authContext `json:"authenticationContext"`
	Request               request     `json:"request"`
}

type actor struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	AlternateID string `json:"alternateId"`
}

type client struct {
	IPAddress string    `json:"ipAddress"`
	UserAgent userAgent `json:"userAgent"`
}

type userAgent struct {
	RawUserAgent string `json:"rawUserAgent"`
}

type device struct {
	ID string `json:"id"`
}

type outcome struct {
	Result string `json:"result"`
	Reason string `json:"reason"`
}

type authContext struct {
	ExternalSessionID string `json:"externalSessionId"`
	CredentialType    string `json:"credentialType"`
}

type request struct {
	IPChain []struct {
		IP string `json:"ip"`
	} `json:"ipChain"`
}

func decodeEvent(rec []byte, emit func(ingest.Event)) error {
	var ev logEvent
	if err := json.Unmarshal(rec, &ev); err != nil {
		return fmt.Errorf("okta: %w", err)
	}
	f, err := ev.fields()
	if err != nil {
		return fmt.Errorf("okta: %s %s: %w", ev.EventType, ev.UUID, err)
	}
	e, err := f.Event()
	if err != nil {
		return fmt.Errorf("okta: %s %s: %w", ev.EventType, ev.UUID, err)
	}
	emit(e)
	return nil
}
