package kv

import (
	"context"
	"errors"
)

// Request errors etcd reports before running a transaction; the memory
// store reports the same ones so code tested on it meets them there too.
var (
	// ErrDuplicateKey: one op list of a transaction puts the same key
	// twice, or puts a key that a delete in the same list covers
	// (etcd's "duplicate key given in txn request").
	ErrDuplicateKey = errors.New("kv: duplicate key given in txn request")
	// ErrEmptyKey: a read, write or compare names the empty key (etcd's
	// "key is not provided"). The whole key space is the range from
	// "\x00" to "\x00".
	ErrEmptyKey = errors.New("kv: key is not provided")
)

// Compactor is implemented by stores whose history can be discarded, as
// etcd's Compact: afterwards reads and watches at revisions below rev fail
// with ErrCompacted, while rev itself stays readable. Compacting at or
// below the current compaction revision fails with ErrCompacted, above the
// store revision with ErrFutureRevision.
type Compactor interface {
	Compact(ctx context.Context, rev int64) error
}
