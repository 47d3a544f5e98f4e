package m365

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/atod-project/atod/ingest"
)

// ruleEvent starts an inbox_rule event from an Exchange record.
func (r *record) ruleEvent(f *ingest.Fields) error {
	if strings.EqualFold(r.ResultStatus, "False") || strings.EqualFold(r.ResultStatus, "Failed") {
		return fmt.Errorf("%w: the cmdlet failed (ResultStatus %s)", ingest.ErrSkip, r.ResultStatus)
	}
	f.Type = ingest.TypeInboxRule
	f.IP = firstOf(r.ClientIP, r.ClientIPAddress, r.OfficeClientIP)
	f.SessionID = r.SessionID
	return nil
}

// inboxRuleCmdlet reads New-InboxRule and Set-InboxRule, whose Parameters
// are the cmdlet's.
func (r *record) inboxRuleCmdlet(f *ingest.Fields) error {
	if err := r.ruleEvent(f); err != nil {
		return err
	}
	p := r.Parameters.V
	f.Rule = &ingest.InboxRule{
		Name:       firstOf(p.get("Name"), ruleIdentity(p.get("Identity")), ruleIdentity(r.ObjectID)),
		ForwardTo:  append(addresses(p.get("ForwardTo")), addresses(p.get("ForwardAsAttachmentTo"))...),
		RedirectTo: addresses(p.get("RedirectTo")),
		Delete:     strings.EqualFold(p.get("DeleteMessage"), "true"),
		MoveTo:     folderName(p.get("MoveToFolder")),
	}
	return nil
}

// setMailbox reads Set-Mailbox, which forwards all of a mailbox's mail
// with ForwardingSmtpAddress (any address) or ForwardingAddress (a
// recipient of the organisation). Set-Mailbox without them is skipped.
func (r *record) setMailbox(f *ingest.Fields) error {
	p := r.Parameters.V
	to := append(addresses(p.get("ForwardingSmtpAddress")), addresses(p.get("ForwardingAddress"))...)
	if len(to) == 0 {
		return fmt.Errorf("%w: Set-Mailbox sets no forwarding address", ingest.ErrSkip)
	}
	if err := r.ruleEvent(f); err != nil {
		return err
	}
	f.Rule = &ingest.InboxRule{Name: "Set-Mailbox", ForwardTo: to}
	return nil
}

// updateInboxRules reads the rule changes that Outlook makes over EWS or
// MAPI. OperationProperties names the rule (RuleName or Name), the change
// (RuleOperation) and the actions (RuleActions or Actions, as Exchange's
// action class names); the recipients are in the rule itself (ServerRule,
// or RuleActions when it holds JSON).
func (r *record) updateInboxRules(f *ingest.Fields) error {
	p := r.OperationProperties.V
	if strings.EqualFold(p.get("RuleOperation"), "RemoveMailboxRule") {
		return fmt.Errorf("%w: the rule was removed", ingest.ErrSkip)
	}
	if err := r.ruleEvent(f); err != nil {
		return err
	}
	actions := p.get("RuleActions") + ";" + p.get("Actions")
	has := func(s string) bool { return strings.Contains(strings.ToLower(actions), strings.ToLower(s)) }
	rule := &ingest.InboxRule{
		Name:   firstOf(p.get("RuleName"), p.get("Name"), ruleIdentity(r.ObjectID)),
		Delete: has("DeleteAction") || has(`"ActionType":"Delete"`),
		MoveTo: folderName(firstOf(p.get("MoveToFolder"), p.get("Folder"))),
	}
	recipients, err := ruleRecipients(p.get("ServerRule"), p.get("RuleActions"))
	if err != nil {
		return err
	}
	if has("Redirect") && !has("Forward") {
		rule.RedirectTo = recipients
	} else {
		rule.ForwardTo = recipients
	}
	f.Rule = rule
	return nil
}

// ruleRecipients collects the addresses that a rule's actions name: every
// string with an "@" under the Actions of serverRule, or anywhere in
// ruleActions when that holds JSON. The rule's conditions, which also name
// addresses (from whom), are not read.
func ruleRecipients(serverRule, ruleActions string) ([]string, error) {
	var out []string
	if serverRule != "" {
		var rule struct {
			Actions json.RawMessage `json:"Actions"`
		}
		if err := json.Unmarshal([]byte(serverRule), &rule); err != nil {
			return nil, fmt.Errorf("OperationProperties ServerRule: %w", err)
		}
		out = collectAddresses(rule.Actions, out)
	}
	if t := strings.TrimSpace(ruleActions); strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{") {
		if !json.Valid([]byte(t)) {
			return nil, errors.New("OperationProperties RuleActions: invalid JSON")
		}
		out = collectAddresses(json.RawMessage(t), out)
	}
	return out, nil
}

// collectAddresses appends the strings of v that look like mail addresses.
func collectAddresses(v json.RawMessage, out []string) []string {
	if len(v) == 0 {
		return out
	}
	var doc interface{}
	if json.Unmarshal(v, &doc) != nil {
		return out
	}
	var walk func(x interface{})
	walk = func(x interface{}) {
		switch x := x.(type) {
		case string:
			for _, a := range addresses(x) {
				if strings.Contains(a, "@") && !strings.ContainsAny(a, " \t") && len(out) < ingest.MaxRuleAddresses {
					out = append(out, a)
				}
			}
		case []interface{}:
			for _, e := range x {
				walk(e)
			}
		case map[string]interface{}:
			for _, k := range slices.Sorted(maps.Keys(x)) { // in a stable order
				walk(x[k])
			}
		}
	}
	walk(doc)
	return out
}

// addresses splits a recipient list as Exchange logs it ("a@x.org;b@y.org",
// "\"Name\" [SMTP:a@x.org]", "smtp:a@x.org") into bare addresses.
func addresses(list string) []string {
	var out []string
	for _, part := range strings.Split(list, ";") {
		a := strings.TrimSpace(part)
		if i := strings.Index(strings.ToLower(a), "smtp:"); i >= 0 {
			a = a[i+len("smtp:"):]
			if j := strings.IndexByte(a, ']'); j >= 0 {
				a = a[:j]
			}
		}
		a = strings.Trim(a, " \t\"'<>[]")
		if a != "" {
			out = append(out, a)
		}
	}
	return out
}

// ruleIdentity drops the mailbox from a rule's identity ("anna.koch\Weekly").
func ruleIdentity(s string) string {
	if _, after, ok := strings.Cut(s, `\`); ok {
		return after
	}
	return s
}

// folderName drops the mailbox from a folder as Exchange logs it
// ("anna.koch@example.org:\RSS Subscriptions", ":\Deleted Items").
func folderName(s string) string {
	if _, after, ok := strings.Cut(s, `:\`); ok {
		return after
	}
	return strings.TrimSpace(s)
}
