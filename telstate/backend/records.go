package backend

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Record is one key's whole raw contents, the unit of bulk loading and of
// RDB files.
type Record struct {
	Key  []byte
	Type KeyType
	// Value holds an Immutable's value.
	Value []byte
	// Members holds a Mutable's zset members (packed timestamp + value).
	Members [][]byte
	// Entries holds an Indexed key's entries.
	Entries []Entry
}

// Size is the record's payload size in bytes, for sizing batches.
func (r *Record) Size() int {
	n := len(r.Key) + len(r.Value)
	for _, m := range r.Members {
		n += len(m)
	}
	for _, e := range r.Entries {
		n += len(e.SubKey) + len(e.Value)
	}
	return n
}

// BatchLoader is a Loader that can store many keys in one round trip, as
// the Redis backend does with a pipeline. Each record replaces its key.
type BatchLoader interface {
	Loader
	LoadBatch(ctx context.Context, recs []Record) error
}

// Batch limits for LoadRecords' callers: flush after this many keys or
// bytes, whichever comes first.
const (
	BatchKeys  = 1000
	BatchBytes = 4 << 20
)

// ReadRecord reads key's raw contents from b; ok is false if the key does
// not exist (or vanished while being read). Sensor members keep the exact
// timestamp bits stored, so a record read back re-creates the same bytes.
func ReadRecord(ctx context.Context, b Backend, key []byte) (rec Record, ok bool, err error) {
	v, err := b.Get(ctx, key)
	if errors.Is(err, ErrKeyNotFound) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, err
	}
	rec = Record{Key: key, Type: v.Type}
	switch v.Type {
	case Immutable:
		rec.Value = v.Value
	case Mutable:
		ss, err := b.GetRange(ctx, key, math.Inf(-1), math.Inf(1), false, false)
		if errors.Is(err, ErrKeyNotFound) {
			return Record{}, false, nil
		}
		if err != nil {
			return Record{}, false, err
		}
		rec.Members = make([][]byte, len(ss))
		for i, s := range ss {
			m := make([]byte, 8+len(s.Value))
			binary.BigEndian.PutUint64(m, math.Float64bits(s.Timestamp))
			copy(m[8:], s.Value)
			rec.Members[i] = m
		}
	case Indexed:
		rec.Entries = v.Entries
	default:
		return Record{}, false, fmt.Errorf("key %q has unknown type %v", key, v.Type)
	}
	return rec, true, nil
}

// LoadRecords stores recs into dst, replacing each key: in one LoadBatch
// call when dst is a BatchLoader, otherwise key by key.
func LoadRecords(ctx context.Context, dst Loader, recs []Record) error {
	if bl, ok := dst.(BatchLoader); ok {
		return bl.LoadBatch(ctx, recs)
	}
	for _, r := range recs {
		var err error
		switch r.Type {
		case Immutable:
			err = dst.LoadString(ctx, r.Key, r.Value)
		case Mutable:
			err = dst.LoadZSet(ctx, r.Key, r.Members)
		case Indexed:
			err = dst.LoadHash(ctx, r.Key, r.Entries)
		default:
			err = fmt.Errorf("unknown key type %v", r.Type)
		}
		if err != nil {
			return fmt.Errorf("loading key %q: %w", r.Key, err)
		}
	}
	return nil
}
