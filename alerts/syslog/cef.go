package syslog

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/atod-project/atod/detector"
)

// CEF renders an alert in ArcSight's Common Event Format, the payload most
// SIEMs parse out of syslog without configuration:
//
//	CEF:0|atod|atod|<version>|<rule>|<name>|<0-10>|<key=value ...>
//
// Header fields escape backslash and pipe; extension values escape
// backslash, equals sign and line breaks (as \n and \r), per the CEF
// specification, so that no alert field can forge another field.
func CEF(a detector.Alert, version string) string {
	var b strings.Builder
	b.WriteString("CEF:0|atod|atod|")
	b.WriteString(escapeHeader(version))
	b.WriteByte('|')
	b.WriteString(escapeHeader(a.Rule))
	b.WriteByte('|')
	b.WriteString(escapeHeader(ruleName(a.Rule)))
	b.WriteByte('|')
	b.WriteString(strconv.Itoa(min(max(a.Score/10, 0), 10)))
	b.WriteByte('|')
	first := true
	ext := func(k, v string) {
		if v == "" {
			return
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(escapeValue(v))
	}
	ext("rt", strconv.FormatInt(a.Time.UnixMilli(), 10))
	ext("externalId", a.ID)
	ext("act", a.Action)
	ext("cat", a.Severity)
	ext("duser", a.User)
	if ip, err := netip.ParseAddr(a.IP); err == nil {
		if ip.Unmap().Is4() {
			ext("src", ip.Unmap().String())
		} else {
			ext("c6a2", ip.String())
			ext("c6a2Label", "Source IPv6 Address")
		}
	}
	ext("msg", strings.Join(a.Reasons, " "))
	ext("cn1", strconv.Itoa(a.Score))
	ext("cn1Label", "score")
	if a.Geo != nil {
		ext("cs1", a.Geo.Country)
		ext("cs1Label", labelIf(a.Geo.Country, "country"))
		ext("cs2", a.Geo.City)
		ext("cs2Label", labelIf(a.Geo.City, "city"))
		if a.Geo.ASN != 0 {
			ext("cn2", fmt.Sprint(a.Geo.ASN))
			ext("cn2Label", "asn")
		}
		ext("cs3", a.Geo.Org)
		ext("cs3Label", labelIf(a.Geo.Org, "org"))
	}
	ext("cs4", strings.Join(a.Evidence, ","))
	ext("cs4Label", labelIf(strings.Join(a.Evidence, ","), "evidence"))
	ext("cs5", strings.Join(a.Users, ","))
	ext("cs5Label", labelIf(strings.Join(a.Users, ","), "users"))
	ext("cs6", a.Tenant)
	ext("cs6Label", labelIf(a.Tenant, "tenant"))
	return b.String()
}

func labelIf(v, label string) string {
	if v == "" {
		return ""
	}
	return label
}

// ruleName is the human-readable event name of a rule id.
func ruleName(rule string) string {
	s := strings.ReplaceAll(rule, "_", " ")
	if s == "" {
		return "alert"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

var (
	headerEscaper = strings.NewReplacer(`\`, `\\`, `|`, `\|`, "\r\n", " ", "\n", " ", "\r", " ")
	valueEscaper  = strings.NewReplacer(`\`, `\\`, `=`, `\=`, "\n", `\n`, "\r", `\r`)
)

func escapeHeader(s string) string { return headerEscaper.Replace(s) }
func escapeValue(s string) string  { return valueEscaper.Replace(s) }
