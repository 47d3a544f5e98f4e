package detector

import (
	"context"
	"errors"
	"net/netip"
	"time"
)

// ErrConflict is wrapped by Store.Save when another writer changed one of
// the states since it was loaded. The Pipeline then reloads and runs the
// same batch again, so a lost race costs time, not events.
var ErrConflict = errors.New("detector state changed by another writer")

// Store holds the per-account and per-address state between batches. The
// engine loads every state a batch touches at once, works on it in memory and
// saves what it changed, so a remote backend costs two round trips a batch.
//
// Load returns one state per key, in the order asked; a key the store does
// not hold yields an empty state with only its key set. The keys of one
// Load are distinct: the engine asks for each account and address once. Save persists the
// given states. Both block until done or ctx is cancelled and then return
// ctx's error; implementations are safe for concurrent use.
type Store interface {
	Load(ctx context.Context, users []string, addrs []netip.Addr) ([]*UserState, []*AddrState, error)
	Save(ctx context.Context, users []*UserState, addrs []*AddrState) error
}

// UserState is what the rules remember about one account. It holds only what
// a rule needs and is dropped after Config.UserRetention without events.
type UserState struct {
	User string    // normalised account name
	Seen time.Time // event time of the account's last event

	LastLogin Login      // last successful sign-in with a location
	Failures  []Failure  // recent failed sign-ins, oldest first, capped
	Known     []KnownNet // networks the account signed in from successfully
	Incidents []Incident // open incidents about this account

	// The account's habits, learned from successful sign-ins outside
	// trusted networks: what a new sign-in is compared with.
	Logins    int         // successful sign-ins learned from, capped
	FirstSeen time.Time   // event time of the first one
	Countries []Habit     // ISO country codes, as Habit.Key
	ASNs      []Habit     // ASNs, as Habit.Num
	Clients   []Habit     // hashes of device ids ("d") and user agents ("a"), as Habit.Num
	Sessions  []Session   // recent session ids and where they were used
	Risk      RiskySignIn // the latest risky sign-in, for the mailbox rules
	Mail      MailUsage   // how much mail the account reads

	// Sprays is used by the organisation's pseudo-account only (see
	// orgKey): recent failures that may be a distributed spray.
	Sprays []SprayAttempt

	// Applied marks the last Kafka record applied to the account, so that
	// records delivered again after a crash are not counted twice (see
	// Engine.TrackPositions). Zero outside live mode.
	Applied AppliedMark

	// Rev is the store's revision of this state when it was loaded, opaque
	// to the rules: a store shared by several instances compares it on Save
	// to detect a concurrent writer (ErrConflict).
	Rev int64
}

// Habit is one country, network or client an account uses.
type Habit struct {
	Key  string
	Num  uint64
	Last time.Time
}

// Session is where a session id was last used. Only a hash of the id is
// kept: the id itself is a credential.
type Session struct {
	Hash     uint64
	Last     time.Time
	Lat, Lon float64
	RadiusKm int
	HasLoc   bool
	Country  string
	ASN      uint32
	IP       netip.Addr
	EventID  string
}

// RiskySignIn is a successful sign-in whose risk was high enough to make
// what follows it in the mailbox suspicious.
type RiskySignIn struct {
	Time    time.Time
	Score   int
	IP      netip.Addr
	Session uint64
	EventID string
}

// MailUsage counts items read per hour of event time.
type MailUsage struct {
	Hour      time.Time // start of the current hour
	Items     int       // read in the current hour
	PeakItems int       // most read in any hour before those two
	PrevItems int32     // read in the hour before it, when that was the last one
	PrevLast  int32     // seconds into that hour of its last read
	LastRead  int32     // seconds into the current hour of its last read
}

// Login is a successful sign-in as impossible travel needs it.
type Login struct {
	Time     time.Time
	IP       netip.Addr
	Lat, Lon float64
	RadiusKm int
	Country  string
	City     string
	ASN      uint32
	EventID  string
}

// Failure is one failed sign-in of an account.
type Failure struct {
	Time    time.Time
	IP      netip.Addr
	Reason  string
	Known   bool // from a network the account had signed in from before
	EventID string
}

// KnownNet is a network (IPv4 /24, IPv6 /48) an account signed in from.
type KnownNet struct {
	Prefix netip.Prefix
	Last   time.Time
}

// AddrState is what the rules remember about one client address.
type AddrState struct {
	Addr netip.Addr
	Seen time.Time // event time of the address's last event

	Users []AddrUser // accounts that tried to sign in from here recently, capped
	// AttackUntil marks the address as attacking (stuffing or spraying)
	// until this event time; AttackRule says which.
	AttackUntil time.Time
	AttackRule  string
	Incidents   []Incident

	// Rev is the store's revision, as UserState.Rev.
	Rev int64
}

// AddrUser is one account's recent attempts from an address.
type AddrUser struct {
	// User is the account's name. The tag asks a store that keeps
	// pseudonymous keys to keep it sealed too (see detector/redisstore).
	User string `store:"account"`
	// HitAt is the time of the latest success from here from a network
	// the account had never signed in from (an account past its learning
	// period, or a risky sign-in): should the address turn out to be
	// attacking, that success was the attack's hit (see earlierHits).
	HitAt     time.Time
	Last      time.Time
	Failures  int
	Successes int
	Unknown   bool // some attempt failed as unknown_user
	Raised    bool // a compromise was raised for the success at HitAt
	// EventID is the latest attempt's id, for evidence; once HitAt is
	// set, the id of that success.
	EventID string
}

// Incident is an open finding of one rule about one entity; repeated
// findings join it instead of raising new alerts.
type Incident struct {
	Rule   string
	Start  time.Time
	Last   time.Time
	Action string
	Score  int
}

// Caps keep one noisy entity from growing without bound.
const (
	maxFailures  = 64
	maxKnownNets = 16
	maxAddrUsers = 256
	maxIncidents = 16 // at least one per account-level rule, so an open incident is never pushed out
	maxEvidence  = 10
	maxAlertUser = 20
	maxHabits    = 12
	maxSessions  = 8
	maxLogins    = 1000
)

// expired reports whether a state last touched at seen has outlived its
// retention by event time now; expired state is treated as empty whether or
// not the backend has deleted it yet, so backends that expire lazily and
// eagerly give the same answers.
func expired(seen, now time.Time, retention time.Duration) bool {
	return !seen.IsZero() && now.Sub(seen) > retention
}

// reset empties the state but keeps its key and the store's revision:
// it is still the object the store handed out.
func (u *UserState) reset() { *u = UserState{User: u.User, Rev: u.Rev} }

func (a *AddrState) reset() { *a = AddrState{Addr: a.Addr, Rev: a.Rev} }
