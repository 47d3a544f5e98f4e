package splunk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/atod-project/atod/alerts/internal/httpx"
)

// ackWait is how long an alert waits for the indexer's acknowledgement
// before it goes back to the queue. Splunk forgets unanswered acks after
// its ackIdleCleanup (5 minutes by default), so waiting longer is useless.
const ackWait = 2 * time.Minute

// pendingAck is an alert sent whose acknowledgement has not come yet.
type pendingAck struct {
	id   uint64
	sent time.Time
}

// maxPending bounds the alerts remembered as waiting for an ack.
const maxPending = 10000

func (c *Client) notePending(alertID string, id uint64, sent time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) >= maxPending {
		clear(c.pending) // at worst, those alerts are sent again
	}
	c.pending[alertID] = pendingAck{id: id, sent: sent}
}

// pendingAck returns the ack an earlier attempt is waiting for, unless
// ackWait has passed since it sent the alert.
func (c *Client) pendingAck(alertID string) (uint64, time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.pending[alertID]
	if ok && time.Since(p.sent) >= c.ackWait {
		delete(c.pending, alertID)
		return 0, time.Time{}, false
	}
	return p.id, p.sent, ok
}

func (c *Client) forgetPending(alertID string) {
	c.mu.Lock()
	delete(c.pending, alertID)
	c.mu.Unlock()
}

// awaitAck polls the collector's /services/collector/ack until the indexer
// has acknowledged id. A collector with indexer acknowledgement answers
// the event with an ackId: its {"code":0} then only says the event was
// well formed, and the event can still be lost before it is indexed.
//
// The wait ends with the attempt (hooks.retry.attempt_timeout), retryable;
// the next attempt asks for the same ack instead of sending the alert
// again, until ackWait after it was sent. Only then is the alert sent again
// (it may then appear twice, with the same id).
func (c *Client) awaitAck(ctx context.Context, alertID string, id uint64, sent time.Time, op string) (bool, error) {
	ctx, cancel := context.WithDeadline(ctx, sent.Add(c.ackWait))
	defer cancel()
	body := []byte(`{"acks":[` + strconv.FormatUint(id, 10) + `]}`)
	key := strconv.FormatUint(id, 10)
	wait := c.ackFirst
	for {
		select {
		case <-ctx.Done():
			if time.Since(sent) >= c.ackWait {
				c.forgetPending(alertID)
			}
			return true, fmt.Errorf("%s: the indexer has not acknowledged ackId %d yet: %w", op, id, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.ackURL, httpx.Body(body))
		if err != nil {
			return false, fmt.Errorf("%s: %w", op, err)
		}
		req.Header.Set("Authorization", "Splunk "+c.token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Splunk-Request-Channel", c.cfg.Channel)
		_, raw, retry, err := httpx.Send(c.http, req, op+": asking for its acknowledgement", parseAnswer)
		if err != nil {
			if retry && ctx.Err() == nil {
				continue
			}
			if !retry {
				c.forgetPending(alertID)
			}
			return retry, err
		}
		var answer struct {
			Acks map[string]bool `json:"acks"`
		}
		if err := json.Unmarshal(raw, &answer); err != nil || answer.Acks == nil {
			return true, fmt.Errorf("%s: unexpected acknowledgement answer: %s", op, httpx.Snippet(raw))
		}
		if answer.Acks[key] {
			c.forgetPending(alertID)
			return false, nil
		}
	}
}
