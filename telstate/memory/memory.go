// Package memory is the in-process telstate backend, the Go counterpart of
// katsdptelstate's MemoryBackend. It holds everything in maps and sorted
// slices inside the process, so it needs no server; it is what
// telstate.New uses by default and what RDB files are usually loaded into
// for reading.
//
// Storage mirrors the Redis layout byte for byte:
//
//   - an immutable key holds its encoded value;
//   - an indexed key holds a map from encoded sub-key to encoded value plus
//     a sorted view of the sub-keys, so Get lists entries in encoded
//     sub-key order (Redis HGETALL order is unspecified; sorted is the
//     stable choice);
//   - a mutable key (sensor) holds its packed members
//     (backend.PackMember: 8-byte big-endian |timestamp| + encoded value)
//     in one buffer, with a slice of references to them sorted bytewise,
//     without duplicates: exactly the order of a Redis zset whose scores
//     are all 0. Neither holds pointers, so millions of samples cost the
//     garbage collector nothing.
//
// Costs: adding a sample with a timestamp at or after the newest one is
// amortised O(1) (the common case); an out-of-order sample is a binary
// search plus a slice insert. GetRange is O(log n + k) for k samples
// returned, independent of the sensor length. Get of a sensor is O(1).
//
// Range queries are planned by backend.RangeBounds, so results are those of
// the Redis backend, including the corner cases where Python's
// MemoryBackend differs (st > et with include_previous).
//
// A Backend is safe for concurrent use: one sync.RWMutex guards the data,
// and every write (even one that changes nothing, as in Python) bumps a
// generation counter and wakes every Monitor. Monitors report only "check
// again" updates (Type backend.KeyNone), which the telstate waits handle
// by re-reading.
package memory

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/sdpkit/sdpkit/telstate/backend"
)

// Backend is an in-memory telstate backend. The zero value is not usable;
// create one with New.
type Backend struct {
	mu   sync.RWMutex
	data map[string]*item

	// gen counts writes; wake is nil until a monitor waits, and the next
	// write swaps it out and closes it. A writer bumps gen before taking
	// wake, and a monitor installs wake before re-reading gen, so a
	// monitor either sees the new gen or holds the channel the writer
	// closes (see monitor.Next). Writers take no lock for this.
	gen  atomic.Uint64
	wake atomic.Pointer[chan struct{}]
}

// item is one key. Exactly one of the three representations is in use,
// chosen by typ.
type item struct {
	typ    backend.KeyType
	value  []byte            // Immutable
	sensor *sensor           // Mutable
	fields map[string][]byte // Indexed: encoded sub-key -> encoded value
	order  []string          // Indexed: sub-keys of fields, sorted
}

// New returns an empty backend.
func New() *Backend {
	return &Backend{data: make(map[string]*item)}
}

var (
	_ backend.Backend    = (*Backend)(nil)
	_ backend.Loader     = (*Backend)(nil)
	_ backend.BatchAdder = (*Backend)(nil)
)

// changed records a write and wakes monitors. Call with mu write-locked.
func (b *Backend) changed() {
	b.gen.Add(1)
	if ch := b.wake.Swap(nil); ch != nil {
		close(*ch)
	}
}

func wrongType(key []byte, have, want backend.KeyType) error {
	return fmt.Errorf("%w: key %q holds a %s value, not %s", backend.ErrImmutableKey, key, have, want)
}

// maxValue is the largest encoded value a sample may have: Redis's limit
// on a string (proto-max-bulk-len).
const maxValue = 512 << 20

func checkSize(key []byte, value []byte) error {
	if len(value) > maxValue {
		return fmt.Errorf("key %q: a sample value of %d bytes exceeds the %d-byte limit", key, len(value), maxValue)
	}
	return nil
}

func notFound(key []byte) error {
	return fmt.Errorf("%w: %q", backend.ErrKeyNotFound, key)
}

// Exists reports whether key exists.
func (b *Backend) Exists(ctx context.Context, key []byte) (bool, error) {
	b.mu.RLock()
	_, ok := b.data[string(key)]
	b.mu.RUnlock()
	return ok, nil
}

// Keys returns the keys matching a Redis glob pattern (see
// backend.MatchGlob), in no particular order.
func (b *Backend) Keys(ctx context.Context, pattern []byte) ([][]byte, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([][]byte, 0, len(b.data))
	for k := range b.data {
		if backend.MatchGlob(pattern, []byte(k)) {
			out = append(out, []byte(k))
		}
	}
	return out, nil
}

// Delete removes key if present.
func (b *Backend) Delete(ctx context.Context, key []byte) error {
	b.mu.Lock()
	delete(b.data, string(key))
	b.changed()
	b.mu.Unlock()
	return nil
}

// Clear removes every key.
func (b *Backend) Clear(ctx context.Context) error {
	b.mu.Lock()
	clear(b.data)
	b.changed()
	b.mu.Unlock()
	return nil
}

// KeyType returns the kind of key, or backend.KeyNone if it is absent.
func (b *Backend) KeyType(ctx context.Context, key []byte) (backend.KeyType, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if it, ok := b.data[string(key)]; ok {
		return it.typ, nil
	}
	return backend.KeyNone, nil
}

// SetImmutable creates key with value unless it exists. See
// backend.Backend.
func (b *Backend) SetImmutable(ctx context.Context, key, value []byte) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.changed()
	if it, ok := b.data[string(key)]; ok {
		if it.typ != backend.Immutable {
			return nil, wrongType(key, it.typ, backend.Immutable)
		}
		return it.value, nil
	}
	b.data[string(key)] = &item{typ: backend.Immutable, value: bytes.Clone(value)}
	return nil, nil
}

// Get returns the key's contents. The returned slices are the backend's
// own and must not be modified.
func (b *Backend) Get(ctx context.Context, key []byte) (backend.Value, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	it, ok := b.data[string(key)]
	if !ok {
		return backend.Value{}, notFound(key)
	}
	v := backend.Value{Type: it.typ}
	switch it.typ {
	case backend.Immutable:
		v.Value = it.value
	case backend.Mutable: // never empty
		val, ts, err := backend.SplitMember(it.sensor.member(it.sensor.len() - 1))
		if err != nil {
			return backend.Value{}, fmt.Errorf("key %q: %w", key, err)
		}
		v.Value, v.Timestamp = val, ts
	case backend.Indexed:
		v.Entries = make([]backend.Entry, len(it.order))
		for i, sk := range it.order {
			v.Entries[i] = backend.Entry{SubKey: []byte(sk), Value: it.fields[sk]}
		}
	}
	return v, nil
}

// AddMutable adds one sample. See backend.Backend.
func (b *Backend) AddMutable(ctx context.Context, key, value []byte, ts float64) error {
	if err := backend.CheckTimestamp(ts); err != nil {
		return err
	}
	if err := checkSize(key, value); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.changed()
	it, err := b.sensorItem(key)
	if err != nil {
		return err
	}
	it.sensor.add(value, ts)
	return nil
}

// AddMutables adds samples to one sensor under a single lock
// (backend.BatchAdder).
func (b *Backend) AddMutables(ctx context.Context, key []byte, samples []backend.Sample) error {
	for _, s := range samples {
		if err := backend.CheckTimestamp(s.Timestamp); err != nil {
			return err
		}
		if err := checkSize(key, s.Value); err != nil {
			return err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.changed()
	it, err := b.sensorItem(key)
	if err != nil {
		return err
	}
	for _, s := range samples {
		it.sensor.add(s.Value, s.Timestamp)
	}
	return nil
}

// sensorItem returns the mutable item for key, creating it. Call with mu
// write-locked.
func (b *Backend) sensorItem(key []byte) (*item, error) {
	it, ok := b.data[string(key)]
	if !ok {
		it = &item{typ: backend.Mutable, sensor: &sensor{}}
		b.data[string(key)] = it
	} else if it.typ != backend.Mutable {
		return nil, wrongType(key, it.typ, backend.Mutable)
	}
	return it, nil
}

// SetIndexed sets one sub-key unless present. See backend.Backend.
func (b *Backend) SetIndexed(ctx context.Context, key, subKey, value []byte) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.changed()
	it, ok := b.data[string(key)]
	if !ok {
		it = &item{typ: backend.Indexed, fields: make(map[string][]byte)}
		b.data[string(key)] = it
	} else if it.typ != backend.Indexed {
		return nil, wrongType(key, it.typ, backend.Indexed)
	}
	if old, ok := it.fields[string(subKey)]; ok {
		return old, nil
	}
	sk := string(subKey)
	it.fields[sk] = bytes.Clone(value)
	if n := len(it.order); n == 0 || it.order[n-1] < sk {
		it.order = append(it.order, sk)
	} else {
		i, _ := slices.BinarySearch(it.order, sk)
		it.order = slices.Insert(it.order, i, sk)
	}
	return nil, nil
}

// GetIndexed returns one sub-key's value. See backend.Backend.
func (b *Backend) GetIndexed(ctx context.Context, key, subKey []byte) ([]byte, bool, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	it, ok := b.data[string(key)]
	if !ok {
		return nil, false, notFound(key)
	}
	if it.typ != backend.Indexed {
		return nil, false, wrongType(key, it.typ, backend.Indexed)
	}
	v, ok := it.fields[string(subKey)]
	return v, ok, nil
}

// GetRange returns samples as planned by backend.RangeBounds, which makes
// the result that of Redis. ErrImmutableKey whenever the key is not a
// sensor, even if the plan would run no query. The returned Value slices
// are the backend's own and must not be modified.
func (b *Backend) GetRange(ctx context.Context, key []byte, start, end float64, includePrevious, includeEnd bool) ([]backend.Sample, error) {
	if math.IsNaN(start) || math.IsNaN(end) {
		return nil, fmt.Errorf("%w: NaN in time range [%v, %v]", backend.ErrInvalidTimestamp, start, end)
	}
	q := backend.RangeBounds(start, end, includePrevious, includeEnd)
	b.mu.RLock()
	defer b.mu.RUnlock()
	it, ok := b.data[string(key)]
	if !ok {
		return nil, notFound(key)
	}
	if it.typ != backend.Mutable {
		return nil, wrongType(key, it.typ, backend.Mutable)
	}
	sn := it.sensor
	lo, hi := 0, 0
	if q.Range {
		lo = sn.searchMin(q.Start)
		hi = sn.searchMax(q.End)
	}
	prev := -1
	if q.Previous {
		prev = sn.searchMax(q.Start) - 1
	}
	count := max(hi-lo, 0)
	if prev >= 0 {
		count++
	}
	out := make([]backend.Sample, count)
	k := 0
	if prev >= 0 {
		out[0] = sn.sample(prev)
		k = 1
	}
	for i := lo; i < hi; i++ {
		out[k] = sn.sample(i)
		k++
	}
	return out, nil
}

// LoadString stores an immutable, replacing key (backend.Loader).
func (b *Backend) LoadString(ctx context.Context, key, value []byte) error {
	b.mu.Lock()
	b.data[string(key)] = &item{typ: backend.Immutable, value: bytes.Clone(value)}
	b.changed()
	b.mu.Unlock()
	return nil
}

// LoadZSet stores a sensor from zset members in any order, replacing key
// (backend.Loader). Members are copied, sorted and de-duplicated. With no
// members the key is deleted, as Redis keeps no empty sorted sets.
func (b *Backend) LoadZSet(ctx context.Context, key []byte, members [][]byte) error {
	if len(members) == 0 {
		return b.Delete(ctx, key)
	}
	for _, m := range members {
		if len(m) < 8 {
			return fmt.Errorf("key %q: sorted-set member of %d bytes is shorter than its 8-byte timestamp", key, len(m))
		}
		if err := checkSize(key, m[8:]); err != nil {
			return err
		}
	}
	sn := newSensor(members) // copies
	b.mu.Lock()
	b.data[string(key)] = &item{typ: backend.Mutable, sensor: sn}
	b.changed()
	b.mu.Unlock()
	return nil
}

// LoadHash stores an indexed key, replacing key (backend.Loader). A
// repeated sub-key keeps the last value, as Redis HSET does. With no
// entries the key is deleted, as Redis keeps no empty hashes.
func (b *Backend) LoadHash(ctx context.Context, key []byte, entries []backend.Entry) error {
	if len(entries) == 0 {
		return b.Delete(ctx, key)
	}
	it := &item{typ: backend.Indexed, fields: make(map[string][]byte, len(entries))}
	for _, e := range entries {
		it.fields[string(e.SubKey)] = bytes.Clone(e.Value)
	}
	it.order = make([]string, 0, len(it.fields))
	for sk := range it.fields {
		it.order = append(it.order, sk)
	}
	slices.Sort(it.order)
	b.mu.Lock()
	b.data[string(key)] = it
	b.changed()
	b.mu.Unlock()
	return nil
}

// Monitor returns a Monitor that reports a "check again" update
// (backend.KeyUpdate with Type KeyNone) first, and then once after each
// batch of writes to the backend, to any key: the memory backend does not
// track which keys changed, so keys is only recorded in the updates.
func (b *Backend) Monitor(ctx context.Context, keys [][]byte) (backend.Monitor, error) {
	return &monitor{b: b, first: true}, nil
}

// Close does nothing: the data stays in place and the backend remains
// usable (unlike the aio MemoryBackend of Python, whose close clears it).
// Drop every reference to let the garbage collector reclaim the memory,
// or call Clear.
func (b *Backend) Close() error { return nil }

type monitor struct {
	b      *Backend
	gen    uint64
	first  bool
	closed atomic.Bool
}

var errMonitorClosed = fmt.Errorf("memory: monitor closed")

// Next returns a "check again" update once the backend has changed since
// the previous call (or immediately on the first call), or ctx's error.
func (m *monitor) Next(ctx context.Context) (backend.KeyUpdate, error) {
	if m.first {
		m.first = false
		m.gen = m.b.gen.Load()
		return backend.KeyUpdate{}, nil
	}
	b := m.b
	for {
		if m.closed.Load() {
			return backend.KeyUpdate{}, errMonitorClosed
		}
		if g := b.gen.Load(); g != m.gen {
			m.gen = g
			return backend.KeyUpdate{}, nil
		}
		// Install (or share) the wake channel, then re-check gen: a write
		// that bumped gen before the channel was installed is seen here,
		// and any later write closes the channel.
		ch := b.wake.Load()
		if ch == nil {
			fresh := make(chan struct{})
			if b.wake.CompareAndSwap(nil, &fresh) {
				ch = &fresh
			} else if ch = b.wake.Load(); ch == nil {
				continue // a writer just swapped it out: gen has moved
			}
		}
		if g := b.gen.Load(); g != m.gen {
			m.gen = g
			return backend.KeyUpdate{}, nil
		}
		select {
		case <-*ch:
		case <-ctx.Done():
			return backend.KeyUpdate{}, ctx.Err()
		}
	}
}

func (m *monitor) Close() error {
	m.closed.Store(true)
	return nil
}
