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

// awaitAck polls the collector's /services/collector/ack until the indexer
// has acknowledged id. A collector with indexer acknowledgement answers
// the event with an ackId: its {"code":0} then only says the event was
// well formed, and the event can still be lost before it is indexed.
// Until the ack is true the alert is not delivered; a wait that ends
// first is retryable, so the alert is sent again (it may then appear
// twice, with the same id).
func (c *Client) awaitAck(ctx context.Context, id uint64, op string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, c.ackWait)
	defer cancel()
	body := []byte(`{"acks":[` + strconv.FormatUint(id, 10) + `]}`)
	key := strconv.FormatUint(id, 10)
	wait := c.ackFirst
	for {
		select {
		case <-ctx.Done():
			return true, fmt.Errorf("%s: the indexer did not acknowledge ackId %d in time: %w", op, id, ctx.Err())
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
			return retry, err
		}
		var answer struct {
			Acks map[string]bool `json:"acks"`
		}
		if err := json.Unmarshal(raw, &answer); err != nil || answer.Acks == nil {
			return true, fmt.Errorf("%s: unexpected acknowledgement answer: %s", op, httpx.Snippet(raw))
		}
		if answer.Acks[key] {
			return false, nil
		}
	}
}
