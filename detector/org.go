package detector

import (
	"slices"
	"time"
)

// The organisation (a tenant) has habits too: which countries its people
// sign in from. They are kept in a pseudo-account per tenant, so that a
// country nobody in the organisation uses is suspicious even for an account
// still in its learning period. The key starts with a NUL byte, which no
// real account name (validated by ingest) can.
func orgKey(tenant string) string { return "\x00org\x00" + tenant }

func isOrgKey(key string) bool { return len(key) > 0 && key[0] == 0 }

// maxOrgHabits bounds the countries kept for an organisation.
const maxOrgHabits = 64

// orgCountryUsers reports how many accounts have country among their habits.
func orgCountryUsers(org *UserState, country string) int {
	for i := range org.Countries {
		if org.Countries[i].Key == country {
			return int(org.Countries[i].Num)
		}
	}
	return 0
}

// rareForOrg reports whether so few of the organisation's accounts use
// country that a sign-in from it stands out.
// The organisation has a learning period of its own (learning): on its first
// day, the people of a far-away office simply have not signed in yet.
func rareForOrg(org *UserState, country string, now time.Time, learning time.Duration) bool {
	if org.FirstSeen.IsZero() || now.Sub(org.FirstSeen) < learning || org.Logins < 20 {
		return false
	}
	// Fewer than 0.5 % of the accounts, at least 2: users*200 < logins
	// is users < logins/200 without rounding the share down.
	users := orgCountryUsers(org, country)
	return users < 2 || users*200 < org.Logins
}

// learnOrg counts an account's first sign-in, and a country new to it, in
// the organisation's habits. It reports whether org changed.
func learnOrg(org *UserState, now time.Time, firstLogin bool, newCountry string) bool {
	if !firstLogin && newCountry == "" {
		return false
	}
	if org.FirstSeen.IsZero() {
		org.FirstSeen = now
	}
	if firstLogin {
		org.Logins++ // here: accounts seen, not sign-ins
	}
	if newCountry != "" {
		i := 0
		for i < len(org.Countries) && org.Countries[i].Key != newCountry {
			i++
		}
		if i == len(org.Countries) {
			if len(org.Countries) >= maxOrgHabits {
				return true
			}
			org.Countries = append(org.Countries, Habit{Key: newCountry})
		}
		org.Countries[i].Num++
		org.Countries[i].Last = now
	}
	org.Seen = now
	return true
}

// tendOrg keeps the organisation's state while its tenant is active and
// forgets what no rule can use any more, as of an event at now.
//
// Its Seen moves with learnOrg only, that is with an account's first
// sign-in or a country new to an account: a stable tenant brings neither
// for weeks, and its state expired after user_retention, taking with it
// the count of accounts that makes a country rare, which then never came
// back (existing accounts are past their first sign-in). Seen is moved
// once a quarter of the retention instead of with every event, since each
// move is a write of a state every instance shares. Spray attempts, which
// name an account and an address, go once the window and the lateness
// have passed, not only when the next spray-like failure comes.
func (e *Engine) tendOrg(now time.Time) {
	org := e.org
	changed := false
	if !org.Seen.IsZero() && now.Sub(org.Seen) >= e.cfg.UserRetention/4 {
		org.Seen, changed = now, true
	}
	if len(org.Sprays) > 0 {
		cut := now.Add(-e.cfg.Spray.Window - e.cfg.Lateness)
		if org.Sprays[0].Time.Before(cut) {
			org.Sprays = slices.DeleteFunc(org.Sprays, func(s SprayAttempt) bool { return s.Time.Before(cut) })
			changed = true
		}
	}
	if changed {
		e.orgDirty[org] = true
	}
}
