package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/atod-project/atod/alerts"
)

// Admit implements alerts.Ledger in one script, so that instances sharing
// the Redis never admit more than the limit between them. Account names
// appear in key names only hashed: keyed (see SealWith), so that hashing a
// list of addresses does not tell whom atod revoked.
func (q *Redis) Admit(ctx context.Context, r alerts.AdmitRequest) (alerts.Admission, error) {
	tenant := q.hashName(r.Tenant)
	keys := []string{q.key("decision", r.Decision), q.key("window", tenant),
		q.key("cooldown", tenant, q.hashName(strings.ToLower(r.User))), q.key("tripped", tenant)}
	res, err := admitScript.Run(ctx, q.c, keys, ms(r.Now), r.Window.Milliseconds(), r.Max,
		r.Cooldown.Milliseconds(), q.cfg.Retention.Milliseconds(), r.Decision).Slice()
	if err != nil {
		return alerts.Admission{}, fmt.Errorf("admitting decision %s: %w", r.Decision, err)
	}
	if len(res) != 3 {
		return alerts.Admission{}, fmt.Errorf("admitting decision %s: unexpected answer %v", r.Decision, res)
	}
	verdict, _ := res[0].(string)
	dup, _ := res[1].(int64)
	tripped, _ := res[2].(int64)
	return alerts.Admission{Verdict: verdict, Duplicate: dup == 1, Tripped: tripped == 1}, nil
}

func (q *Redis) hashName(s string) string {
	if q.box != nil {
		return q.box.Name(s)
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:12])
}
