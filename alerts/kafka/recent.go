package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/atod-project/atod/detector"
)

// Recent returns the alerts written to the topic since (by the records'
// timestamps), from every partition. It reads only from the offset the
// brokers give for since on, so a window of minutes costs little whatever
// the topic's retention. Records that are not alerts are skipped.
func (p *Publisher) Recent(ctx context.Context, since time.Time) ([]detector.Alert, error) {
	meta, err := p.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{p.topic}})
	if err != nil {
		return nil, fmt.Errorf("reading metadata of %s: %w", p.topic, err)
	}
	var parts []int
	for _, t := range meta.Topics {
		if t.Name != p.topic {
			continue
		}
		if t.Error != nil {
			return nil, fmt.Errorf("reading metadata of %s: %w", p.topic, t.Error)
		}
		for _, pt := range t.Partitions {
			parts = append(parts, pt.ID)
		}
	}
	reqs := make([]kafka.OffsetRequest, 0, 2*len(parts))
	for _, pt := range parts {
		reqs = append(reqs, kafka.TimeOffsetOf(pt, since), kafka.LastOffsetOf(pt))
	}
	offs, err := p.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{p.topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("listing offsets of %s: %w", p.topic, err)
	}
	var out []detector.Alert
	for _, po := range offs.Topics[p.topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("listing offsets of %s/%d: %w", p.topic, po.Partition, po.Error)
		}
		from := po.LastOffset
		for off := range po.Offsets {
			if off >= 0 {
				from = off
			}
		}
		if out, err = p.read(ctx, po.Partition, from, po.LastOffset, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// read appends the alerts of the records in [from, end) of partition.
func (p *Publisher) read(ctx context.Context, partition int, from, end int64, out []detector.Alert) ([]detector.Alert, error) {
	for from < end {
		resp, err := p.client.Fetch(ctx, &kafka.FetchRequest{Topic: p.topic, Partition: partition, Offset: from,
			MinBytes: 1, MaxBytes: 4 << 20, MaxWait: 100 * time.Millisecond})
		if err == nil {
			err = resp.Error
		}
		if err != nil {
			return out, fmt.Errorf("reading %s/%d at %d: %w", p.topic, partition, from, err)
		}
		next := from
		for {
			r, err := resp.Records.ReadRecord()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return out, fmt.Errorf("reading %s/%d at %d: %w", p.topic, partition, from, err)
			}
			if r.Offset < from {
				continue // a batch may start before the offset asked for
			}
			next = r.Offset + 1
			if r.Value == nil {
				continue
			}
			raw, err := io.ReadAll(r.Value)
			if err != nil {
				continue
			}
			if a, ok := decodeAlert(raw); ok {
				out = append(out, a)
			}
		}
		if next == from {
			return out, nil // compacted away or not yet visible: nothing more to learn
		}
		from = next
	}
	return out, nil
}

// decodeAlert reads a record's value back; ok is false for what is not
// an alert (not JSON, or without an id).
func decodeAlert(raw []byte) (a detector.Alert, ok bool) {
	if json.Unmarshal(raw, &a) != nil || a.ID == "" {
		return detector.Alert{}, false
	}
	return a, true
}
