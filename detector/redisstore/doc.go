// Package redisstore keeps the detector's state in Redis, so that several
// atod instances share what they know about each account and address, and
// a restart forgets nothing.
//
// Each account and each address is one string key, named by a keyed hash
// (HMAC) of the account name or address and tagged for Redis Cluster; each
// value is the state in a compact, self-describing binary encoding that
// needs no change when the rules add fields. Every key carries a TTL, so
// memory stays bounded and personal data expires even if atod stops.
//
// A batch costs at most two round trips: one read of the keys the local
// cache does not hold (see stateCache), one compare-and-set script that
// refuses to overwrite what another instance wrote since the batch loaded
// it (detector.ErrConflict: the Pipeline runs the batch again on fresh
// state). In replay the script of one batch travels while the next batch
// runs (SaveAhead: the next batch reads the values from the cache), and
// the batch's alerts are emitted once it is confirmed. Errors that mean
// Redis is unreachable
// wrap ErrUnavailable; wrap the Store in a Retrier to wait them out.
//
// What a copy of the data reveals: keys name no one; values hold what the
// rules need, which includes, in an account's state, the addresses it
// signed in from, and in an address's state, the accounts that tried it,
// but never the account or address the value is about.
package redisstore
