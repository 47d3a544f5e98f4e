package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/internal/box"
)

// RedisConfig is hooks.queue for live mode; the connection itself is the
// redis section's.
type RedisConfig struct {
	// KeyPrefix starts every key (hooks.queue.key_prefix). All keys of the
	// queue share one hash tag, so that its scripts work on Redis Cluster.
	KeyPrefix string `yaml:"key_prefix"`
	// Retention is how long settled job ids and decisions are remembered
	// (hooks.queue.retention): a decision handled again within it is not
	// carried out twice. It must exceed the runner's max_age.
	Retention time.Duration `yaml:"retention"`
	// MaxWait bounds how long an idle worker blocks before looking for due
	// jobs again (hooks.queue.max_wait); new jobs wake a worker at once.
	MaxWait time.Duration `yaml:"max_wait"`
}

// DefaultRedisConfig returns the defaults.
func DefaultRedisConfig() RedisConfig {
	return RedisConfig{KeyPrefix: "atod:", Retention: 7 * 24 * time.Hour, MaxWait: time.Second}
}

// Validate checks the values; messages name the keys under hooks.queue.
func (c RedisConfig) Validate() error {
	var errs []error
	if strings.ContainsAny(c.KeyPrefix, "{}") {
		errs = append(errs, fmt.Errorf("queue.key_prefix %q: braces would break the hash tag", c.KeyPrefix))
	}
	if c.Retention < time.Hour {
		errs = append(errs, fmt.Errorf("queue.retention: at least 1h, got %s", c.Retention))
	}
	if c.MaxWait < 10*time.Millisecond || c.MaxWait > 2*time.Second {
		errs = append(errs, fmt.Errorf("queue.max_wait: between 10ms and 2s, got %s", c.MaxWait))
	}
	return errors.Join(errs...)
}

// Redis is the durable Queue and Ledger of live mode. Every change is one
// Lua script, so that a crash or a second instance never sees half of it.
// Keys, per job kind: <prefix>{hooks}:due:<kind> and :lease:<kind> are
// sorted sets of job ids by due time and lease expiry, :wake:<kind> a list
// that wakes blocked workers, :claims:<kind> a hash from the id of each job
// popped but not yet taken to its claim token (see popScript); :job:<id> is
// a hash (the job's JSON, its state, lease token and attempt count) kept
// for Retention after it is settled, which is what makes Enqueue
// idempotent.
type Redis struct {
	c   redis.UniversalClient
	cfg RedisConfig
	now func() time.Time
	box *box.Box // see SealWith; nil: in clear
}

var (
	_ alerts.Queue  = (*Redis)(nil)
	_ alerts.Ledger = (*Redis)(nil)
)

// NewRedis returns a queue on c, which the caller owns and closes.
func NewRedis(c redis.UniversalClient, cfg RedisConfig, now func() time.Time) (*Redis, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Redis{c: c, cfg: cfg, now: now}, nil
}

// SealWith has the queue keep job ids only as keyed pseudonyms (in key
// names and sets, where a settled job's id stays for the retention) and
// job bodies sealed, with keys derived from secret (the state store's
// RecordKey): a revocation job's id names its account, and its body the
// alert. Jobs stored in clear before are still read. Call it before the
// queue is used; nil keeps everything in clear.
func (q *Redis) SealWith(secret []byte) { q.box = box.New(secret, "hooks queue") }

func (q *Redis) key(parts ...string) string {
	return q.cfg.KeyPrefix + "{hooks}:" + strings.Join(parts, ":")
}

// member is how a job id is kept in Redis: its key name and its entry in
// the due and lease sets.
func (q *Redis) member(id string) string { return q.box.Name(id) }

// Enqueue implements alerts.Queue.
func (q *Redis) Enqueue(ctx context.Context, j alerts.Job) (bool, error) {
	j.Attempts, j.Lease = 0, ""
	body, err := json.Marshal(&j)
	if err != nil {
		return false, fmt.Errorf("encoding job %s: %w", j.ID, err)
	}
	if !slices.Contains(alerts.AllKinds(), j.Kind) {
		return false, fmt.Errorf("enqueueing job %s: unknown kind %q", j.ID, j.Kind)
	}
	m := q.member(j.ID)
	n, err := enqueueScript.Run(ctx, q.c, []string{q.key("job", m), q.key("due", j.Kind), q.key("wake", j.Kind)},
		q.box.Seal(body, m), ms(q.now()), m, q.cfg.Retention.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("enqueueing job %s: %w", j.ID, err)
	}
	return n == 1, nil
}

// Claim implements alerts.Queue.
func (q *Redis) Claim(ctx context.Context, lease time.Duration, kinds ...string) (alerts.Job, error) {
	if len(kinds) == 0 {
		kinds = alerts.AllKinds()
	}
	var popKeys, wakeKeys []string
	for _, k := range kinds {
		popKeys = append(popKeys, q.key("due", k), q.key("lease", k), q.key("claims", k))
		wakeKeys = append(wakeKeys, q.key("wake", k))
	}
	for {
		if err := ctx.Err(); err != nil {
			return alerts.Job{}, err
		}
		now := q.now()
		// Popping and taking run to completion even when ctx is cancelled
		// meanwhile: a job popped but never taken would sit leased until
		// its lease expired. A job taken after the cancel is returned; the
		// caller hands it back.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		token := newToken()
		res, err := popScript.Run(sctx, q.c, popKeys, ms(now), ms(now.Add(lease)), token, q.cfg.Retention.Milliseconds()).StringSlice()
		if err != nil {
			cancel()
			return alerts.Job{}, fmt.Errorf("claiming a job: %w", err)
		}
		if res[0] != "" {
			idx, err := strconv.Atoi(res[1])
			if err != nil || idx < 0 || idx >= len(kinds) {
				cancel()
				return alerts.Job{}, fmt.Errorf("claiming a job: bad kind index %q", res[1])
			}
			j, ok, err := q.take(sctx, res[0], kinds[idx], token)
			cancel()
			if err != nil || ok {
				return j, err
			}
			continue
		}
		cancel()
		wait := q.cfg.MaxWait
		for _, s := range res[2:] {
			if at, err := strconv.ParseInt(s, 10, 64); err == nil {
				wait = min(wait, max(time.UnixMilli(at).Sub(now), time.Millisecond))
			}
		}
		// BLPOP with a fractional timeout (Redis 6+); go-redis's BLPop
		// rounds up to whole seconds, too coarse for due jobs.
		args := []any{"BLPOP"}
		for _, k := range wakeKeys {
			args = append(args, k)
		}
		err = q.c.Do(ctx, append(args, strconv.FormatFloat(wait.Seconds(), 'f', 3, 64))...).Err()
		if err != nil && !errors.Is(err, redis.Nil) {
			if ctx.Err() != nil {
				return alerts.Job{}, ctx.Err()
			}
			return alerts.Job{}, fmt.Errorf("waiting for jobs: %w", err)
		}
	}
}

// take completes a claim: it gives the job the pop's token as its lease
// token and reads it. ok is false when the job was settled meanwhile, or
// the claim was taken back (see popScript). id is the job's member.
func (q *Redis) take(ctx context.Context, id, kind, token string) (alerts.Job, bool, error) {
	res, err := takeScript.Run(ctx, q.c, q.leaseKeys(id, kind), token, id).Slice()
	if errors.Is(err, redis.Nil) {
		return alerts.Job{}, false, nil
	}
	if err != nil {
		return alerts.Job{}, false, fmt.Errorf("claiming job %s: %w", id, err)
	}
	var j alerts.Job
	sealed, _ := res[0].(string)
	body, err := q.box.Open([]byte(sealed), id)
	if err != nil {
		return alerts.Job{}, false, q.unreadable(ctx, id, kind, token, fmt.Errorf("opening: %w", err))
	}
	if err := json.Unmarshal(body, &j); err != nil {
		return alerts.Job{}, false, q.unreadable(ctx, id, kind, token, fmt.Errorf("decoding: %w", err))
	}
	attempts, _ := res[1].(int64)
	j.Attempts, j.Lease = int(attempts), token
	return j, true, nil
}

// unreadable settles a job just taken that cannot be read (see
// alerts.UnreadableJobError) as done, which drops its body: no worker
// could read it on a later claim either, and it would otherwise be handed
// out again every lease period until its retention ended, never reported.
func (q *Redis) unreadable(ctx context.Context, id, kind, token string, cause error) error {
	if err := doneScript.Run(ctx, q.c, q.leaseKeys(id, kind), token, id,
		q.cfg.Retention.Milliseconds()).Err(); err != nil {
		return fmt.Errorf("claiming job %s: %w; dropping it: %w", id, cause, err)
	}
	return &alerts.UnreadableJobError{Member: id, Kind: kind, Err: cause}
}

// leaseKeys are the keys of a job's lease: its own, its kind's lease set
// and its kind's claims.
func (q *Redis) leaseKeys(member, kind string) []string {
	return []string{q.key("job", member), q.key("lease", kind), q.key("claims", kind)}
}

// Extend implements alerts.Queue.
func (q *Redis) Extend(ctx context.Context, j alerts.Job, lease time.Duration) error {
	return q.settle(ctx, extendScript, j, func(m string) []string { return q.leaseKeys(m, j.Kind) },
		ms(q.now().Add(lease)), q.cfg.Retention.Milliseconds())
}

// Done implements alerts.Queue.
func (q *Redis) Done(ctx context.Context, j alerts.Job) error {
	return q.settle(ctx, doneScript, j, func(m string) []string { return q.leaseKeys(m, j.Kind) },
		q.cfg.Retention.Milliseconds())
}

// Retry implements alerts.Queue.
func (q *Redis) Retry(ctx context.Context, j alerts.Job, due time.Time) error {
	return q.settle(ctx, retryScript, j, func(m string) []string {
		return append(q.leaseKeys(m, j.Kind), q.key("due", j.Kind), q.key("wake", j.Kind))
	}, ms(due), q.cfg.Retention.Milliseconds())
}

// settle runs a script that ends or extends j's lease; keys are its keys
// for the job's member.
func (q *Redis) settle(ctx context.Context, s *redis.Script, j alerts.Job, keys func(member string) []string, args ...int64) error {
	m := q.member(j.ID)
	run := func(member string) (int, error) {
		argv := []any{j.Lease, member}
		for _, a := range args {
			argv = append(argv, a)
		}
		return s.Run(ctx, q.c, keys(member), argv...).Int()
	}
	n, err := run(m)
	if err == nil && n == 0 && m != j.ID {
		// A job enqueued in clear, by an atod from before SealWith, is
		// kept under its id.
		n, err = run(j.ID)
	}
	if err != nil {
		return fmt.Errorf("job %s: %w", j.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("job %s: %w", j.ID, alerts.ErrLeaseLost)
	}
	return nil
}

// Pending counts the jobs not settled yet (due or leased).
func (q *Redis) Pending(ctx context.Context) (int64, error) {
	var n int64
	for _, k := range alerts.AllKinds() {
		for _, set := range []string{"due", "lease"} {
			c, err := q.c.ZCard(ctx, q.key(set, k)).Result()
			if err != nil {
				return 0, fmt.Errorf("counting %s jobs: %w", set, err)
			}
			n += c
		}
	}
	return n, nil
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
