package telstate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate/backend"
	"github.com/sdpkit/sdpkit/telstate/encoding"
)

// lookup returns the raw contents of key under the first prefix where it
// exists, and that full key.
func (ts *TelescopeState) lookup(ctx context.Context, key string) (backend.Value, []byte, error) {
	for i := range ts.prefixes {
		fk := ts.full(i, key)
		v, err := ts.be.Get(ctx, fk)
		if err == nil {
			return v, fk, nil
		}
		if !errors.Is(err, ErrKeyNotFound) {
			return backend.Value{}, fk, backendErr("get", fk, err)
		}
	}
	return backend.Value{}, nil, ts.notFound(key)
}

func (ts *TelescopeState) notFound(key string) error {
	return fmt.Errorf("%w: %s", ErrKeyNotFound, displayKey(ts.full(0, key)))
}

// Get returns the value of key under the first prefix where it exists:
// an immutable's value, a sensor's latest value, or for an indexed key a
// *pyval.Dict from decoded sub-key to decoded value. ErrKeyNotFound if the
// key exists under no prefix; ErrDecode if a stored value cannot be
// decoded.
//
// Dict entries come in encoded sub-key order. Sub-keys that are distinct
// in the store but equal in Python (1, 1.0 and True) become one entry, as
// in katsdptelstate: the first such sub-key in that order is kept, with
// the value of the last.
func (ts *TelescopeState) Get(ctx context.Context, key string) (pyval.Value, error) {
	raw, fk, err := ts.lookup(ctx, key)
	if err != nil {
		return nil, err
	}
	return ts.decodeValue(fk, raw)
}

func (ts *TelescopeState) decodeValue(fk []byte, raw backend.Value) (pyval.Value, error) {
	if raw.Type != backend.Indexed {
		return ts.decode(fk, raw.Value)
	}
	d := &pyval.Dict{}
	for _, e := range raw.Entries {
		k, err := encoding.Decode(e.SubKey, ts.decodeOpts()...)
		if err != nil {
			return nil, fmt.Errorf("key %s: sub-key: %w", displayKey(fk), err)
		}
		v, err := ts.decode(fk, e.Value)
		if err != nil {
			return nil, err
		}
		if err := d.Set(k, v); err != nil {
			return nil, fmt.Errorf("key %s: sub-key %s: %w", displayKey(fk), pyval.Repr(k), err)
		}
	}
	return d, nil
}

// GetDefault is Get, but returns def instead of ErrKeyNotFound. (An
// immutable whose value is None gives pyval.None, not def.)
func (ts *TelescopeState) GetDefault(ctx context.Context, key string, def pyval.Value) (pyval.Value, error) {
	v, err := ts.Get(ctx, key)
	if errors.Is(err, ErrKeyNotFound) {
		return def, nil
	}
	return v, err
}

// GetEncoded is Get without decoding (katsdptelstate's
// return_encoded=True): the stored bytes of an immutable, the latest
// sample of a sensor (value and timestamp) or an indexed key's entries in
// encoded sub-key order. The slices are copies.
func (ts *TelescopeState) GetEncoded(ctx context.Context, key string) (backend.Value, error) {
	raw, _, err := ts.lookup(ctx, key)
	if err != nil {
		return backend.Value{}, err
	}
	raw.Value = bytes.Clone(raw.Value)
	if raw.Entries != nil {
		es := make([]backend.Entry, len(raw.Entries))
		for i, e := range raw.Entries {
			es[i] = backend.Entry{SubKey: bytes.Clone(e.SubKey), Value: bytes.Clone(e.Value)}
		}
		raw.Entries = es
	}
	return raw, nil
}

// getIndexed finds subKey (already encoded) in the first prefix where key
// exists.
func (ts *TelescopeState) getIndexed(ctx context.Context, key string, fk0, sk []byte, subKey pyval.Value) ([]byte, []byte, error) {
	for i := range ts.prefixes {
		fk := fk0
		if i > 0 {
			fk = ts.full(i, key)
		}
		v, ok, err := ts.be.GetIndexed(ctx, fk, sk)
		switch {
		case errors.Is(err, ErrKeyNotFound):
			continue
		case errors.Is(err, ErrImmutableKey):
			return nil, fk, fmt.Errorf("%w: key %s is not indexed", ErrImmutableKey, displayKey(fk))
		case err != nil:
			return nil, fk, backendErr("get_indexed", fk, err)
		case !ok:
			// The key exists here: the sub-key is missing, and
			// outer namespaces are shadowed.
			return nil, fk, fmt.Errorf("%w: %s[%s]", ErrSubKeyNotFound, displayKey(fk), pyval.Repr(subKey))
		}
		return v, fk, nil
	}
	return nil, nil, ts.notFound(key)
}

// GetIndexed returns the value of subKey in the indexed key, looking in
// the first prefix where the key exists (later prefixes are not tried even
// if the sub-key is missing there). Errors: ErrSubKeyNotFound if that key
// lacks the sub-key, ErrKeyNotFound (which ErrSubKeyNotFound also
// matches) if the key exists under no prefix, ErrImmutableKey if it is not
// an indexed key.
func (ts *TelescopeState) GetIndexed(ctx context.Context, key string, subKey pyval.Value) (pyval.Value, error) {
	fk0, sk, err := ts.fullAndEncoded(key, subKey) // as Python, no hashability check on reads
	if err != nil {
		return nil, fmt.Errorf("telstate: get_indexed %s: sub-key: %w", displayKey(fk0), err)
	}
	v, fk, err := ts.getIndexed(ctx, key, fk0, sk, subKey)
	if err != nil {
		return nil, err
	}
	return ts.decode(fk, v)
}

// GetIndexedEncoded is GetIndexed without decoding: a copy of the stored
// bytes.
func (ts *TelescopeState) GetIndexedEncoded(ctx context.Context, key string, subKey pyval.Value) ([]byte, error) {
	fk0, sk, err := ts.fullAndEncoded(key, subKey)
	if err != nil {
		return nil, fmt.Errorf("telstate: get_indexed %s: sub-key: %w", displayKey(fk0), err)
	}
	v, _, err := ts.getIndexed(ctx, key, fk0, sk, subKey)
	return bytes.Clone(v), err
}

// RangeOption configures GetRange.
type RangeOption func(rangeConfig) rangeConfig

type rangeConfig struct {
	start, end      float64
	haveStart       bool
	includePrevious bool
	havePrevious    bool
	includeEnd      bool
}

// Start sets the start of the time range (inclusive). Without it the
// range starts at its end and IncludePrevious defaults to true, so that
// GetRange(ctx, k) returns the latest sample and GetRange(ctx, k, End(t))
// the newest sample before t. Negative times are allowed in queries.
func Start(t float64) RangeOption {
	return func(c rangeConfig) rangeConfig { c.start, c.haveStart = t, true; return c }
}

// End sets the end of the time range, exclusive unless IncludeEnd is
// given. The default is +Inf (no end).
func End(t float64) RangeOption {
	return func(c rangeConfig) rangeConfig { c.end = t; return c }
}

// IncludePrevious sets whether the newest sample before the start comes
// first in the result (default: true without Start, false with it).
func IncludePrevious(include bool) RangeOption {
	return func(c rangeConfig) rangeConfig { c.includePrevious, c.havePrevious = include, true; return c }
}

// IncludeEnd makes the end of the range inclusive.
func IncludeEnd() RangeOption {
	return func(c rangeConfig) rangeConfig { c.includeEnd = true; return c }
}

// getRange runs the query on the first prefix where key exists.
func (ts *TelescopeState) getRange(ctx context.Context, key string, opts []RangeOption) ([]backend.Sample, []byte, error) {
	c := rangeConfig{end: math.Inf(1)}
	for _, o := range opts {
		c = o(c)
	}
	if !c.havePrevious {
		c.includePrevious = !c.haveStart
	}
	if !c.haveStart {
		c.start = c.end
	}
	if math.IsNaN(c.start) || math.IsNaN(c.end) {
		return nil, nil, fmt.Errorf("%w: get_range %s: NaN in time range (start %v, end %v)",
			ErrInvalidTimestamp, displayKey(ts.full(0, key)), c.start, c.end)
	}
	for i := range ts.prefixes {
		fk := ts.full(i, key)
		ss, err := ts.be.GetRange(ctx, fk, c.start, c.end, c.includePrevious, c.includeEnd)
		switch {
		case err == nil:
			return ss, fk, nil
		case errors.Is(err, ErrKeyNotFound):
			continue
		case errors.Is(err, ErrImmutableKey):
			return nil, fk, fmt.Errorf("%w: %s is immutable, cannot use get_range", ErrImmutableKey, displayKey(fk))
		default:
			return nil, fk, backendErr("get_range", fk, err)
		}
	}
	return nil, nil, ts.notFound(key)
}

// GetRange returns the samples of a sensor with start <= t < end (t <= end
// with IncludeEnd), oldest first, preceded with IncludePrevious by the
// newest sample before start, from the first prefix where the key exists.
// Results match katsdptelstate's Redis backend in every corner case (see
// backend.RangeBounds): with a start after the end the result is empty,
// or just the newest sample before the start with IncludePrevious; an end
// of 0 (or -0) matches nothing unless IncludeEnd.
//
// Typical calls:
//
//	GetRange(ctx, k)                     // [latest]
//	GetRange(ctx, k, Start(0))           // everything
//	GetRange(ctx, k, Start(t0), End(t1)) // t0 <= t < t1
//	GetRange(ctx, k, End(t1))            // [newest sample before t1]
//
// Errors: ErrKeyNotFound; ErrImmutableKey if the key is not a sensor;
// ErrInvalidTimestamp for a NaN time; ErrDecode.
func (ts *TelescopeState) GetRange(ctx context.Context, key string, opts ...RangeOption) ([]Sample, error) {
	ss, fk, err := ts.getRange(ctx, key, opts)
	if err != nil {
		return nil, err
	}
	out := make([]Sample, len(ss))
	for i, s := range ss {
		v, err := ts.decode(fk, s.Value)
		if err != nil {
			return nil, err
		}
		out[i] = Sample{Value: v, Timestamp: s.Timestamp}
	}
	return out, nil
}

// GetRangeEncoded is GetRange without decoding: copies of the stored
// value bytes.
func (ts *TelescopeState) GetRangeEncoded(ctx context.Context, key string, opts ...RangeOption) ([]backend.Sample, error) {
	ss, _, err := ts.getRange(ctx, key, opts)
	if err != nil {
		return nil, err
	}
	for i := range ss {
		ss[i].Value = bytes.Clone(ss[i].Value)
	}
	return ss, nil
}
