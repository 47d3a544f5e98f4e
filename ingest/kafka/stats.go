package kafka

import "time"

// Stats are the consumer's counters since New, for metrics.
type Stats struct {
	Records      int64 // records read
	Events       int64 // events decoded and handed on
	DeadLetters  int64 // records refused
	Commits      int64
	CommitErrors int64
	DLQErrors    int64 // failed attempts to write a dead letter (retried)
	Generations  int64 // group generations joined
	// Partitions holds the partitions assigned now.
	Partitions map[int32]PartitionStats
}

// PartitionStats describe one assigned partition.
type PartitionStats struct {
	Lag       int64 // records between the last one read and the partition's end
	Held      int64 // records read but not yet committable
	Committed int64 // last committed offset; -1 before the first commit
	// LastRecord is the timestamp of the last record read.
	LastRecord time.Time
}

// Stats returns a copy of the counters.
func (c *Consumer) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Partitions = make(map[int32]PartitionStats, len(c.stats.Partitions))
	for p, ps := range c.stats.Partitions {
		s.Partitions[p] = ps
	}
	return s
}

// update runs f on the counters under the lock.
func (c *Consumer) update(f func(s *Stats)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.stats)
}
