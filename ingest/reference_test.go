package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// parseReference is ParseCanonical built on encoding/json: slow and obviously
// right about JSON. FuzzDecoderAgrees holds the hand-written decoder to it.
// Both share the field rules (rawEvent.event), which the table tests cover.
func parseReference(line []byte) (Event, error) {
	if !utf8.Valid(line) {
		return Event{}, errors.New("not UTF-8")
	}
	if !json.Valid(line) {
		return Event{}, errors.New("not JSON")
	}
	var raw rawEvent
	err := refObject(line, func(key string, v json.RawMessage) error {
		switch key {
		case "time":
			return refString(&raw.seen, seenTime, &raw.time, v)
		case "user":
			return refString(&raw.seen, seenUser, &raw.user, v)
		case "ip":
			return refString(&raw.seen, seenIP, &raw.ip, v)
		case "type":
			return refString(&raw.seen, seenType, &raw.typ, v)
		case "outcome":
			return refString(&raw.seen, seenOutcome, &raw.outcome, v)
		case "reason":
			return refString(&raw.seen, seenReason, &raw.reason, v)
		case "session_id":
			return refString(&raw.seen, seenSessionID, &raw.sessionID, v)
		case "protocol":
			return refString(&raw.seen, seenProtocol, &raw.protocol, v)
		case "user_agent":
			return refString(&raw.seen, seenUserAgent, &raw.userAgent, v)
		case "device_id":
			return refString(&raw.seen, seenDeviceID, &raw.device, v)
		case "id":
			return refString(&raw.seen, seenID, &raw.id, v)
		case "tenant":
			return refString(&raw.seen, seenTenant, &raw.tenant, v)
		case "source":
			if c := bytes.TrimLeft(v, " \t\r\n"); len(c) > 0 && c[0] != '"' && c[0] != 'n' {
				return nil // not a string: someone else's field, ignored
			}
			return refString(&raw.seen, seenSource, &raw.source, v)
		case "items":
			if err := refSeen(&raw.seen, seenItems); err != nil {
				return err
			}
			var p *int64
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			if p != nil {
				raw.hasItems, raw.items = true, *p
			}
		case "rule":
			if err := refSeen(&raw.seen, seenRule); err != nil {
				return err
			}
			return refRule(v, &raw.rule)
		}
		return nil
	})
	if err != nil {
		return Event{}, err
	}
	return raw.event()
}

// refObject calls field for each member of the JSON object v, which must be
// valid JSON.
func refObject(v []byte, field func(string, json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(v))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return errors.New("not an object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return err
		}
		if err := field(tok.(string), value); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the object")
	}
	return nil
}

func refSeen(seen *uint32, bit uint32) error {
	if *seen&bit != 0 {
		return errors.New("duplicate")
	}
	*seen |= bit
	return nil
}

func refString(seen *uint32, bit uint32, dst *[]byte, v json.RawMessage) error {
	if err := refSeen(seen, bit); err != nil {
		return err
	}
	var p *string
	if err := json.Unmarshal(v, &p); err != nil {
		return err
	}
	if p != nil {
		*dst = []byte(*p)
	}
	return nil
}

func refRule(v json.RawMessage, r *rawRule) error {
	if string(v) == "null" {
		return nil
	}
	if v[0] != '{' {
		return errors.New("rule is not an object")
	}
	r.present = true
	return refObject(v, func(key string, v json.RawMessage) error {
		switch key {
		case "name":
			return refString(&r.seen, seenName, &r.name, v)
		case "move_to":
			return refString(&r.seen, seenMoveTo, &r.moveTo, v)
		case "forward_to":
			return refList(&r.seen, seenForwardTo, &r.forwardTo, v)
		case "redirect_to":
			return refList(&r.seen, seenRedirectTo, &r.redirectTo, v)
		case "delete":
			if err := refSeen(&r.seen, seenDelete); err != nil {
				return err
			}
			var p *bool
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			r.delete = p != nil && *p
		}
		return nil
	})
}

func refList(seen *uint32, bit uint32, dst *[][]byte, v json.RawMessage) error {
	if err := refSeen(seen, bit); err != nil {
		return err
	}
	var list []*string
	if err := json.Unmarshal(v, &list); err != nil {
		return err
	}
	for _, s := range list {
		if s != nil && len(*dst) < maxListEntries {
			*dst = append(*dst, []byte(*s))
		}
	}
	return nil
}
