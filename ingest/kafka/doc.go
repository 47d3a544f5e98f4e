// Package kafka is atod's live source: it reads sign-in and mailbox events
// from a Kafka topic as a member of a consumer group, with
// github.com/segmentio/kafka-go.
//
// Each assigned partition is fetched and decoded on a goroutine of its
// own (records are decoded with the ingest formats, auto-detected per
// record); one goroutine hands the events to a Handler and commits. A
// record that cannot be decoded goes to a dead-letter topic, its bytes
// untouched and the reason in a header.
//
// An offset is committed only past records every event of which the
// Handler has reported done: a detector holds events back to restore
// event-time order, so the commit trails what was read. What was handled
// beyond the committed offset is listed in the commit's metadata, so that
// a restart after a crash skips it instead of counting it twice. When a
// generation ends (a rebalance, a shutdown) the Handler is asked to finish
// everything it holds, and the final offsets are committed before the
// partitions are given up.
package kafka
