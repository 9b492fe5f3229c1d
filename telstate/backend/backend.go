// Package backend defines the storage interface under a telstate.TelescopeState,
// in the way database/sql/driver sits under database/sql.
//
// A Backend stores raw bytes only: keys are full keys (view prefix already
// applied) and values are katsdptelstate-encoded values. It knows nothing of
// namespaces or of the value encoding. The three kinds of key and their byte
// layouts follow katsdptelstate exactly (see KeyType), so that two backends
// holding the same data hold the same bytes.
package backend

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// KeyType is the kind of a key. The integer values are katsdptelstate's
// KeyType values, which also appear on the wire in pub/sub messages.
type KeyType int

const (
	// KeyNone means the key does not exist.
	KeyNone KeyType = 0
	// Immutable is an attribute: one value that never changes (Redis STRING).
	Immutable KeyType = 1
	// Mutable is a sensor: timestamped samples ordered by time (Redis ZSET).
	Mutable KeyType = 2
	// Indexed is a set of immutable values addressed by sub-key (Redis HASH).
	Indexed KeyType = 3
)

// String returns katsdptelstate's name for the key type.
func (k KeyType) String() string {
	switch k {
	case KeyNone:
		return "NONE"
	case Immutable:
		return "IMMUTABLE"
	case Mutable:
		return "MUTABLE"
	case Indexed:
		return "INDEXED"
	}
	return fmt.Sprintf("KeyType(%d)", int(k))
}

// Errors every backend reports; callers test them with errors.Is. The
// telstate package re-exports them.
var (
	// ErrImmutableKey: a write conflicts with what is stored (a different
	// value for an immutable key or sub-key, or a key of another kind).
	ErrImmutableKey = errors.New("telstate: immutable key")
	// ErrKeyNotFound: the key does not exist.
	ErrKeyNotFound = errors.New("telstate: key not found")
	// ErrInvalidTimestamp: a NaN, infinite or negative sample timestamp.
	ErrInvalidTimestamp = errors.New("telstate: invalid timestamp")
	// ErrConnection: the backend's server cannot be reached.
	ErrConnection = errors.New("telstate: connection error")
	// ErrRdbParse: an RDB file is malformed. The rdb package reports it
	// as an *rdb.ParseError carrying the byte offset.
	ErrRdbParse = errors.New("telstate: invalid RDB file")
)

// Sample is one raw sensor sample.
type Sample struct {
	Value     []byte  // encoded value
	Timestamp float64 // seconds
}

// Entry is one raw indexed entry.
type Entry struct {
	SubKey []byte // encoded sub-key (always msgpack, with the 0xFF marker)
	Value  []byte // encoded value
}

// Value is what Backend.Get returns for an existing key.
type Value struct {
	Type KeyType
	// Value is the immutable value, or the latest sample's value.
	Value []byte
	// Timestamp is the latest sample's timestamp (Mutable only).
	Timestamp float64
	// Entries holds an indexed key's entries, sorted by encoded sub-key.
	Entries []Entry
}

// KeyUpdate is what a Monitor reports. Type KeyNone means "something may
// have changed, check again" and carries no data (subscription
// confirmations, reconnects, and every update of the memory backend).
type KeyUpdate struct {
	Key       []byte
	Type      KeyType
	Value     []byte  // the new value (immutable, mutable, indexed)
	Timestamp float64 // Mutable only
	SubKey    []byte  // Indexed only: the encoded sub-key
}

// Monitor delivers updates for a set of keys until closed.
type Monitor interface {
	// Next blocks until an update arrives or ctx ends. The first call
	// returns immediately with a "check again" update once the monitor
	// is listening, so callers re-check state that may have changed
	// before monitoring began.
	Next(ctx context.Context) (KeyUpdate, error)
	// Close stops monitoring and releases resources.
	Close() error
}

// Backend is the raw storage under a TelescopeState. Implementations must
// be safe for concurrent use.
type Backend interface {
	// Exists reports whether key exists (as any kind).
	Exists(ctx context.Context, key []byte) (bool, error)
	// Keys returns the keys matching a Redis glob pattern, in no
	// particular order.
	Keys(ctx context.Context, pattern []byte) ([][]byte, error)
	// Delete removes key if it exists.
	Delete(ctx context.Context, key []byte) error
	// Clear removes every key.
	Clear(ctx context.Context) error
	// KeyType returns the key's kind, or KeyNone if it is absent.
	KeyType(ctx context.Context, key []byte) (KeyType, error)
	// SetImmutable creates key as an immutable holding value. If key was
	// created it returns (nil, nil); if it already exists as an immutable
	// it returns the stored value (which may differ) and nil; if it exists
	// as another kind it returns ErrImmutableKey.
	SetImmutable(ctx context.Context, key, value []byte) (old []byte, err error)
	// Get returns the key's contents; ErrKeyNotFound if absent.
	Get(ctx context.Context, key []byte) (Value, error)
	// AddMutable adds a sample. ts must be finite and >= 0 (callers
	// check; -0.0 is stored as 0.0). Adding an identical sample is a
	// no-op. ErrImmutableKey if key exists as another kind.
	AddMutable(ctx context.Context, key, value []byte, ts float64) error
	// SetIndexed sets one sub-key, with SetImmutable's return rules for
	// the sub-key.
	SetIndexed(ctx context.Context, key, subKey, value []byte) (old []byte, err error)
	// GetIndexed returns the sub-key's value and true, or (nil, false) if
	// the key exists but lacks the sub-key. ErrKeyNotFound if the key is
	// absent, ErrImmutableKey if it is of another kind.
	GetIndexed(ctx context.Context, key, subKey []byte) ([]byte, bool, error)
	// GetRange returns samples with start <= t < end (t <= end when
	// includeEnd), preceded when includePrevious by the newest sample
	// before start, with katsdptelstate's Redis semantics (see
	// RangeBounds). ErrKeyNotFound if absent; ErrImmutableKey if the key
	// is not mutable.
	GetRange(ctx context.Context, key []byte, start, end float64, includePrevious, includeEnd bool) ([]Sample, error)
	// Monitor starts watching keys for updates.
	Monitor(ctx context.Context, keys [][]byte) (Monitor, error)
	// Close releases the backend's resources.
	Close() error
}

// Loader is implemented by backends that can take data in bulk, without
// immutability checks, as RDB loading does (katsdptelstate's
// load_from_file). Each call replaces the key.
type Loader interface {
	LoadString(ctx context.Context, key, value []byte) error
	// LoadZSet stores a sensor from raw zset members (packed timestamp +
	// encoded value), in any order.
	LoadZSet(ctx context.Context, key []byte, members [][]byte) error
	LoadHash(ctx context.Context, key []byte, entries []Entry) error
}

// PackTimestamp returns the 8-byte big-endian IEEE-754 form of |ts| that
// prefixes a zset member (so -0.0 becomes 0.0).
func PackTimestamp(ts float64) [8]byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], math.Float64bits(math.Abs(ts)))
	return b
}

// PackMember returns the zset member for a sample: PackTimestamp(ts) + value.
func PackMember(value []byte, ts float64) []byte {
	m := make([]byte, 8+len(value))
	p := PackTimestamp(ts)
	copy(m, p[:])
	copy(m[8:], value)
	return m
}

// SplitMember splits a zset member into its encoded value and timestamp.
func SplitMember(member []byte) (value []byte, ts float64, err error) {
	if len(member) < 8 {
		return nil, 0, fmt.Errorf("sensor member of %d bytes is shorter than its 8-byte timestamp", len(member))
	}
	return member[8:], math.Float64frombits(binary.BigEndian.Uint64(member[:8])), nil
}

// CheckTimestamp returns ErrInvalidTimestamp for a NaN, infinite or
// negative sample time.
func CheckTimestamp(ts float64) error {
	switch {
	case math.IsNaN(ts) || math.IsInf(ts, 0):
		return fmt.Errorf("%w: non-finite timestamps (%v) are not supported", ErrInvalidTimestamp, ts)
	case ts < 0:
		return fmt.Errorf("%w: negative timestamps (%v) are not supported", ErrInvalidTimestamp, ts)
	}
	return nil
}
