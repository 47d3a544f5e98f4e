package redisstore

import "github.com/redis/go-redis/v9"

// Client returns the Store's Redis client, so that what else atod keeps
// beside the state (atod run's alert outbox) shares its connections,
// credentials and TLS settings.
func (s *Store) Client() redis.UniversalClient { return s.client }
