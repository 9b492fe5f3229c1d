package telstate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate/backend"
	"github.com/sdpkit/sdpkit/telstate/encoding"
)

// Set stores value as the immutable key (an attribute) under the view's
// first prefix, as katsdptelstate's ts[key] = value.
//
// If the key already holds an equal value, Set succeeds and changes
// nothing. Equal means the same encoded bytes, or both values str/bytes
// with the same UTF-8 bytes; 1, 1.0 and True, or dicts in another order,
// are different values. A different value, a previous value that cannot
// be decoded, or a key of another kind give ErrImmutableKey. A value that
// cannot be encoded gives ErrEncode.
func (ts *TelescopeState) Set(ctx context.Context, key string, value pyval.Value) error {
	fk, enc, err := ts.fullAndEncoded(key, value)
	if err != nil {
		return fmt.Errorf("telstate: set %s: %w", displayKey(fk), err)
	}
	old, err := ts.be.SetImmutable(ctx, fk, enc)
	if err != nil {
		if errors.Is(err, ErrImmutableKey) {
			return fmt.Errorf("%w: attempt to change key %s to immutable", ErrImmutableKey, displayKey(fk))
		}
		return backendErr("set", fk, err)
	}
	if old == nil {
		return nil
	}
	return ts.checkSame(fk, nil, old, enc, value)
}

// checkSame applies katsdptelstate's rule for re-setting an immutable
// value (or sub-key): equal is fine, different or undecodable is
// ErrImmutableKey. fk and subKey (nil for none) name the key for the
// message, which is formatted only when needed: re-setting an equal value
// is common and should not cost a repr.
func (ts *TelescopeState) checkSame(fk []byte, subKey pyval.Value, old, enc []byte, value pyval.Value) error {
	if bytes.Equal(old, enc) {
		return nil
	}
	what := func() string {
		if subKey == nil {
			return displayKey(fk)
		}
		return displayKey(fk) + "[" + pyval.Repr(subKey) + "]"
	}
	// oldV is only formatted into the error, never kept or handed out,
	// so it may share memory with old, which nothing modifies during the
	// call (the memory backend never modifies stored bytes; the Redis
	// backend returns a copy): a large array is then not copied only to
	// be printed.
	oldV, err := encoding.Decode(old, append(ts.decodeOpts(), encoding.AliasInput(true))...)
	if err != nil {
		return fmt.Errorf("%w: attempt to set value of immutable key %s to %s but failed to decode the previous value to compare: %w",
			ErrImmutableKey, what(), pyval.Repr(value), err)
	}
	if encoding.EqualEncoded(old, enc, ts.decodeOpts()...) {
		return nil
	}
	return fmt.Errorf("%w: attempt to change value of immutable key %s from %s to %s",
		ErrImmutableKey, what(), pyval.Repr(oldV), pyval.Repr(value))
}

// smallValue reports whether v is a value whose encoding is small and
// cheap to size, so that it can share an allocation with the key (see
// fullAndEncoded), and returns a capacity hint for that encoding. Others
// (containers, arrays) are encoded on their own, pre-sized by
// encoding.Encode.
func smallValue(v pyval.Value) (int, bool) {
	switch x := v.(type) {
	case pyval.Str:
		return len(x) + 8, true
	case pyval.Bytes:
		return len(x) + 8, true
	case pyval.Int, pyval.Float, pyval.Bool, pyval.NoneType, pyval.Complex:
		return 24, true
	case *pyval.Scalar:
		if x != nil && x.DType.Fields == nil {
			return len(x.Data) + 16, true
		}
	}
	return 0, false
}

// fullAndEncoded returns the full key (first prefix) and the encoding of
// value, in one allocation when value is small. Backends copy what they
// keep and never write to these slices; the key's capacity is clipped so
// that even an append to it could not reach the value.
func (ts *TelescopeState) fullAndEncoded(key string, value pyval.Value) (fk, enc []byte, err error) {
	hint, ok := smallValue(value)
	if !ok {
		fk = ts.full(0, key)
		enc, err = encoding.Encode(value)
		return fk, enc, err
	}
	fk, rest := ts.fullWithRoom(0, key, hint)
	enc, err = encoding.AppendEncoded(rest, value)
	return fk, enc, err
}

// fullWithRoom is full(i, key) with spare capacity of extra bytes after it,
// returned as the empty slice rest.
func (ts *TelescopeState) fullWithRoom(i int, key string, extra int) (fk, rest []byte) {
	p := ts.prefixes[i]
	n := len(p) + len(key)
	b := make([]byte, 0, n+extra)
	b = append(append(b, p...), key...)
	return b[:n:n], b[n:]
}

// AddOption configures Add. (Options map a config value to a new one
// rather than writing through a pointer, so that the config stays on the
// stack: Add is a hot path.)
type AddOption func(addConfig) addConfig

type addConfig struct {
	ts        float64
	haveTS    bool
	immutable bool
}

// At gives the sample's timestamp in seconds (default: now). It must be
// finite and not negative; -0.0 is stored as 0.0.
func At(ts float64) AddOption {
	return func(c addConfig) addConfig { c.ts, c.haveTS = ts, true; return c }
}

// Immutable makes Add behave as Set (katsdptelstate's add(immutable=True));
// any timestamp is ignored.
func Immutable() AddOption {
	return func(c addConfig) addConfig { c.immutable = true; return c }
}

// Now returns the current time as Add's default timestamp does: seconds
// since the Unix epoch as a float64, as Python's time.time().
func Now() float64 {
	return float64(time.Now().UnixNano()) / 1e9
}

// Add adds a sample to the mutable key (a sensor) under the view's first
// prefix, at the time given by At or now. Adding a sample identical to a
// stored one (same time, same encoded value) changes nothing. Several
// different values may share a time; the one with the greatest encoded
// bytes then counts as the latest.
//
// Errors: ErrInvalidTimestamp for a NaN, infinite or negative time;
// ErrImmutableKey if the key is not a sensor; ErrEncode.
func (ts *TelescopeState) Add(ctx context.Context, key string, value pyval.Value, opts ...AddOption) error {
	var c addConfig
	for _, o := range opts {
		c = o(c)
	}
	if c.immutable {
		return ts.Set(ctx, key, value)
	}
	fk, enc, err := ts.fullAndEncoded(key, value)
	if err != nil {
		return fmt.Errorf("telstate: add %s: %w", displayKey(fk), err)
	}
	t := c.ts
	if !c.haveTS {
		t = Now()
	}
	if err := backend.CheckTimestamp(t); err != nil {
		return fmt.Errorf("telstate: add %s: %w", displayKey(fk), err)
	}
	if err := ts.be.AddMutable(ctx, fk, enc, t); err != nil {
		return ts.addErr(fk, err)
	}
	return nil
}

func (ts *TelescopeState) addErr(fk []byte, err error) error {
	if errors.Is(err, ErrImmutableKey) {
		return fmt.Errorf("%w: attempt to change key %s to mutable", ErrImmutableKey, displayKey(fk))
	}
	return backendErr("add", fk, err)
}

// AddSamples adds several samples to one sensor, as repeated Add calls
// with At would, but in one backend operation when the backend supports
// it (backend.BatchAdder). All values are encoded and all timestamps
// checked before anything is written.
func (ts *TelescopeState) AddSamples(ctx context.Context, key string, samples []Sample) error {
	fk := ts.full(0, key)
	raw := make([]backend.Sample, len(samples))
	for i, s := range samples {
		enc, err := encoding.Encode(s.Value)
		if err != nil {
			return fmt.Errorf("telstate: add %s (sample %d): %w", displayKey(fk), i, err)
		}
		if err := backend.CheckTimestamp(s.Timestamp); err != nil {
			return fmt.Errorf("telstate: add %s (sample %d): %w", displayKey(fk), i, err)
		}
		raw[i] = backend.Sample{Value: enc, Timestamp: math.Abs(s.Timestamp)}
	}
	if ba, ok := ts.be.(backend.BatchAdder); ok {
		if err := ba.AddMutables(ctx, fk, raw); err != nil {
			return ts.addErr(fk, err)
		}
		return nil
	}
	for _, s := range raw {
		if err := ts.be.AddMutable(ctx, fk, s.Value, s.Timestamp); err != nil {
			return ts.addErr(fk, err)
		}
	}
	return nil
}

// SetIndexed stores value under subKey of the indexed key under the view's
// first prefix. subKey must be hashable in Python's sense (not a list,
// dict, array or structured scalar): otherwise the error wraps
// pyval.ErrUnhashable and nothing is written. Sub-keys are compared by
// their encoding, so 1, 1.0 and True are three distinct sub-keys in the
// store (see Get for how they are read back).
//
// Each sub-key is immutable, with Set's rules for re-setting it. The key
// being of another kind gives ErrImmutableKey.
func (ts *TelescopeState) SetIndexed(ctx context.Context, key string, subKey, value pyval.Value) error {
	fk, sk, enc, err := ts.indexedArgs(key, subKey, value)
	if err != nil {
		return fmt.Errorf("telstate: set_indexed %s: %w", displayKey(fk), err)
	}
	old, err := ts.be.SetIndexed(ctx, fk, sk, enc)
	if err != nil {
		if errors.Is(err, ErrImmutableKey) {
			return fmt.Errorf("%w: attempt to change key %s to indexed immutable", ErrImmutableKey, displayKey(fk))
		}
		return backendErr("set_indexed", fk, err)
	}
	if old == nil {
		return nil
	}
	return ts.checkSame(fk, subKey, old, enc, value)
}

// indexedArgs returns SetIndexed's full key, encoded sub-key and encoded
// value, in one allocation in the common case of a scalar sub-key and a
// small value (see fullAndEncoded). The sub-key is checked for
// hashability first, and the value is encoded only if the sub-key is
// fine, as before.
func (ts *TelescopeState) indexedArgs(key string, subKey, value pyval.Value) (fk, sk, enc []byte, err error) {
	hint, ok := smallValue(value)
	if !ok || !scalarSubKey(subKey) {
		fk = ts.full(0, key)
		if sk, err = encodeSubKey(subKey); err != nil {
			return fk, nil, nil, err
		}
		enc, err = encoding.Encode(value)
		return fk, sk, enc, err
	}
	skHint, _ := smallValue(subKey)
	fk, rest := ts.fullWithRoom(0, key, skHint+hint)
	if rest, err = encoding.AppendEncoded(rest, subKey); err != nil {
		return fk, nil, nil, err
	}
	sk = rest[:len(rest):len(rest)]
	enc, err = encoding.AppendEncoded(rest[len(rest):], value)
	return fk, sk, enc, err
}

// scalarSubKey reports whether subKey is of a type that is always
// hashable, for which encoding.EncodeSubKey's check can be skipped.
func scalarSubKey(subKey pyval.Value) bool {
	switch subKey.(type) {
	case pyval.Str, pyval.Int, pyval.Bytes, pyval.Float, pyval.Bool, pyval.NoneType, pyval.Complex:
		return true
	}
	return false
}

// encodeSubKey is encoding.EncodeSubKey, which checks hashability
// (pyval.HashKey) so that an unhashable sub-key fails before anything is
// written, with a fast path for the scalar types that are always hashable.
func encodeSubKey(subKey pyval.Value) ([]byte, error) {
	if scalarSubKey(subKey) {
		return encoding.Encode(subKey)
	}
	return encoding.EncodeSubKey(subKey)
}
