package queue

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/atod-project/atod/alerts"
	"github.com/atod-project/atod/alerts/queue/redistest"
	"github.com/atod-project/atod/detector"
)

// previousEnqueueScript is enqueueScript as the release before 0ea11d7
// runs it: the due set gets no time to live.
var previousEnqueueScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'job', ARGV[1], 'state', 'queued', 'attempts', 0, 'token', '')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('RPUSH', KEYS[3], 1)
redis.call('LTRIM', KEYS[3], -64, -1)
return 1`)

// During a rolling upgrade instances of the previous release write the
// same keys. Once this release has given the due set a time to live, a
// job the previous release lists there later was in a set that expired
// before the job: the job was no longer listed, never claimed, and lost
// with its key still there (found by a review). Every pop of this release
// now renews the sets it serves, which workers do at least once a
// queue.max_wait.
func TestDueSetOutlivesJobsOfPreviousRelease(t *testing.T) {
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer client.Close()
	cfg := DefaultRedisConfig()
	cfg.Retention = time.Hour
	q, err := NewRedis(client, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	job := func(id string) alerts.Job {
		a := detector.Alert{ID: id, Rule: "compromise_after_attack", User: "staff03@example.org", Action: detector.ActionRevoke}
		return alerts.Job{ID: alerts.JobID(a.ID, alerts.KindRevoke, "graph", a.User), Kind: alerts.KindRevoke, Target: "graph",
			User: a.User, Alert: a, Decided: time.Now()}
	}
	// This release enqueues a job (and gives the due set a TTL)...
	if _, err := q.Enqueue(ctx, job("a1")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	// ...then an instance of the previous release enqueues another.
	j2 := job("a2")
	m := q.member(j2.ID)
	if err := previousEnqueueScript.Run(ctx, client, []string{q.key("job", m), q.key("due", j2.Kind), q.key("wake", j2.Kind)},
		`{"id":"a2"}`, ms(time.Now()), m, cfg.Retention.Milliseconds()).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := q.Claim(cctx, time.Minute, alerts.KindRevoke); err != nil { // a worker of this release pops
		t.Fatal(err)
	}
	dueTTL := client.PTTL(ctx, q.key("due", j2.Kind)).Val()
	jobTTL := client.PTTL(ctx, q.key("job", m)).Val()
	if dueTTL >= 0 && dueTTL < jobTTL {
		t.Errorf("the due set listing job a2 expires in %s, the job in %s: for %s the job is live but no longer listed (lost)",
			dueTTL, jobTTL, jobTTL-dueTTL)
	}
}
