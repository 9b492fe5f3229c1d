package telstateio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
	"github.com/sdpkit/sdpkit/telstate/backend"
)

// ErrNotStarted is returned by Run and Write before Start.
var ErrNotStarted = errors.New("telstateio: not started")

// SourceOption configures a SensorSource.
type SourceOption func(*sourceConfig)

type sourceConfig struct {
	since      float64
	haveSince  bool
	timestamps bool
	retry      time.Duration
}

// RetryConnection sets how long Run keeps retrying, with back-off, when
// reading from the backend fails because the connection is lost (errors
// matching telstate.ErrConnection, such as a Redis server restarting or
// still loading its data) before it fails; default DefaultRetry, 0 fails at
// once. Samples added meanwhile are read once the connection is back.
// (While the monitor itself is reconnecting, Run just waits, as WaitKey
// does: a server that never comes back is noticed by the next read.)
func RetryConnection(d time.Duration) SourceOption {
	return func(c *sourceConfig) { c.retry = max(d, 0) }
}

// FromStart makes the source emit every sample the sensor already holds,
// oldest first, before the new ones.
func FromStart() SourceOption { return Since(math.Inf(-1)) }

// Since makes the source emit every sample with a timestamp of t or later,
// including those already stored when it starts.
func Since(t float64) SourceOption {
	return func(c *sourceConfig) { c.since, c.haveSince = t, true }
}

// EmitTimestamps makes the source emit each sample as a tuple
// (timestamp, value), the timestamp a float in seconds, instead of the bare
// value. A Sink with TimestampedValues writes such tuples back with their
// timestamps.
func EmitTimestamps() SourceOption {
	return func(c *sourceConfig) { c.timestamps = true }
}

// SensorSource is an exchange.Source that emits the samples of one telstate
// sensor as they are added (see the package documentation for which ones
// and in what order). The key is looked up in the TelescopeState's view as
// telstate reads look it up: under the first prefix where it exists.
//
// An immutable key (an attribute) yields its value once, whenever it is set
// (before or after Start), and the source then ends; the value is emitted
// bare even with EmitTimestamps, since an attribute has no timestamp. An
// indexed key is an error.
//
// Samples sharing the newest timestamp are remembered (their encoded
// values) until a newer timestamp arrives, and each catch-up read starts at
// that timestamp: a sensor written at one constant timestamp therefore
// costs memory and reads in proportion to its length.
type SensorSource struct {
	ts  *telstate.TelescopeState
	be  backend.Backend
	key string
	fks [][]byte // the key under each prefix of the view, innermost first
	cfg sourceConfig

	// The cursor, used by Start and Run only (which the exchange never
	// calls concurrently): every sample before last, and those at last
	// whose encoded values are in seen, have been emitted (or were
	// present at Start).
	started  bool
	last     float64
	seen     map[string]struct{}
	resolved int  // index in fks of the key read last; -1 if none
	done     bool // an immutable's value was emitted
}

var _ exchange.Source = (*SensorSource)(nil)

// NewSensorSource returns a source following key in ts (a view, for a
// namespace). ts stays the caller's: it must remain open while the source
// runs.
func NewSensorSource(ts *telstate.TelescopeState, key string, opts ...SourceOption) (*SensorSource, error) {
	if ts == nil {
		return nil, errors.New("telstateio: sensor source: nil TelescopeState")
	}
	if key == "" {
		return nil, errors.New("telstateio: sensor source: empty key")
	}
	s := &SensorSource{ts: ts, be: ts.Backend(), key: key, resolved: -1}
	for _, p := range ts.Prefixes() {
		s.fks = append(s.fks, []byte(p+key))
	}
	s.cfg.retry = DefaultRetry
	for _, o := range opts {
		o(&s.cfg)
	}
	if math.IsNaN(s.cfg.since) {
		return nil, fmt.Errorf("%w: sensor source %s: Since(NaN)", telstate.ErrInvalidTimestamp, s.name())
	}
	return s, nil
}

// Key returns the key followed (without the view's prefix).
func (s *SensorSource) Key() string { return s.key }

func (s *SensorSource) name() string { return pyval.StrRepr(string(s.fks[0])) }

// Start notes where the stream begins: after the newest sample present
// (default), or at the time given by Since or FromStart. It fails if the
// key exists as an indexed key.
func (s *SensorSource) Start(ctx context.Context) error {
	s.last, s.seen, s.resolved, s.done = math.Inf(-1), map[string]struct{}{}, -1, false
	i, typ, err := s.kind(ctx)
	if err != nil {
		return err
	}
	switch {
	case typ == backend.Indexed:
		return s.indexedErr(i)
	case s.cfg.haveSince:
		s.last = s.cfg.since
	case typ == backend.Mutable:
		// Skip what is there: the newest sample, and any other sample at
		// its time or later (added meanwhile).
		latest, err := s.be.Get(ctx, s.fks[i])
		if err != nil && !errors.Is(err, backend.ErrKeyNotFound) {
			return fmt.Errorf("telstateio: sensor source %s: start: %w", s.name(), err)
		}
		if err == nil && latest.Type == backend.Mutable {
			ss, err := s.be.GetRange(ctx, s.fks[i], latest.Timestamp, math.Inf(1), false, false)
			if err != nil && !errors.Is(err, backend.ErrKeyNotFound) {
				return fmt.Errorf("telstateio: sensor source %s: start: %w", s.name(), err)
			}
			for _, smp := range ss {
				s.advance(smp.Timestamp, smp.Value)
			}
			s.resolved = i
		}
	}
	s.started = true
	return nil
}

// kind returns the first prefix index where the key exists and its type
// (KeyNone and -1 when nowhere).
func (s *SensorSource) kind(ctx context.Context) (int, backend.KeyType, error) {
	for i, fk := range s.fks {
		t, err := s.be.KeyType(ctx, fk)
		if err != nil {
			return -1, backend.KeyNone, fmt.Errorf("telstateio: sensor source %s: %w", s.name(), err)
		}
		if t != backend.KeyNone {
			return i, t, nil
		}
	}
	return -1, backend.KeyNone, nil
}

func (s *SensorSource) indexedErr(i int) error {
	return fmt.Errorf("%w: sensor source: %s is an indexed key, not a sensor", telstate.ErrImmutableKey, pyval.StrRepr(string(s.fks[i])))
}

// Run emits new samples until ctx is done (it then returns nil), emit
// fails (it returns emit's error), or, for an immutable key, its value has
// been emitted (it returns nil). It waits on the backend's monitor, so an
// idle sensor costs nothing. A lost connection is retried (see
// RetryConnection).
func (s *SensorSource) Run(ctx context.Context, emit exchange.Emit) error {
	if !s.started {
		return fmt.Errorf("%w: sensor source %s", ErrNotStarted, s.name())
	}
	if s.done {
		return nil
	}
	retry := retrier{limit: s.cfg.retry}
	var mon backend.Monitor
	for {
		m, err := s.be.Monitor(ctx, s.fks)
		if err == nil {
			mon = m
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		if !errors.Is(err, backend.ErrConnection) || !retry.fail() || !retry.wait(ctx) {
			return fmt.Errorf("telstateio: sensor source %s: monitor: %w", s.name(), err)
		}
	}
	defer mon.Close()
	retry.ok()
	// After a failed catch-up the source is behind: it must read again
	// (after a back-off, or sooner if an update comes) before it may emit
	// samples straight from messages, which would move the cursor past
	// the ones it missed.
	behind := false
	for {
		// The first update is a "check again" once the monitor listens,
		// so the catch-up below also covers what was added since Start.
		next, cancel := ctx, context.CancelFunc(func() {})
		if behind {
			next, cancel = context.WithTimeout(ctx, retry.backoff)
		}
		upd, err := mon.Next(next)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !behind || next.Err() == nil {
				return fmt.Errorf("telstateio: sensor source %s: monitor: %w", s.name(), err)
			}
			upd = backend.KeyUpdate{} // the back-off has passed: read again
		}
		if !behind && upd.Type == backend.Mutable && s.resolved >= 0 && bytes.Equal(upd.Key, s.fks[s.resolved]) {
			// A Redis message carrying the new sample of the key we follow:
			// no need to read it back.
			err = s.emitSample(ctx, emit, upd.Timestamp, upd.Value)
		} else {
			err = s.catchUp(ctx, emit)
		}
		switch {
		case err == nil:
			behind = false
			retry.ok()
		case ctx.Err() == nil && errors.Is(err, backend.ErrConnection) && retry.fail():
			behind = true
			continue
		default:
			return err
		}
		if s.done {
			return nil
		}
	}
}

// catchUp reads and emits every sample past the cursor, from the first
// prefix where the key exists; for an immutable key it emits the value.
func (s *SensorSource) catchUp(ctx context.Context, emit exchange.Emit) error {
	for i, fk := range s.fks {
		ss, err := s.be.GetRange(ctx, fk, s.last, math.Inf(1), false, false)
		switch {
		case errors.Is(err, backend.ErrKeyNotFound):
			continue
		case errors.Is(err, backend.ErrImmutableKey):
			return s.emitAttribute(ctx, emit, i)
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("telstateio: sensor source %s: %w", s.name(), err)
		}
		s.resolved = i
		for _, smp := range ss {
			if err := s.emitSample(ctx, emit, smp.Timestamp, smp.Value); err != nil {
				return err
			}
		}
		return nil
	}
	s.resolved = -1
	return nil
}

// emitAttribute emits the value of the non-sensor key under prefix i (an
// immutable's value; an indexed key is an error) and marks the source done.
func (s *SensorSource) emitAttribute(ctx context.Context, emit exchange.Emit, i int) error {
	v, err := s.be.Get(ctx, s.fks[i])
	switch {
	case errors.Is(err, backend.ErrKeyNotFound):
		return nil // gone again: wait for the next update
	case err != nil:
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("telstateio: sensor source %s: %w", s.name(), err)
	case v.Type == backend.Indexed:
		return s.indexedErr(i)
	case v.Type != backend.Immutable:
		return nil // replaced meanwhile: the next update re-reads
	}
	val, err := s.ts.Decode(v.Value)
	if err != nil {
		return fmt.Errorf("telstateio: sensor source %s: %w", s.name(), err)
	}
	if err := emit(ctx, val); err != nil {
		return err
	}
	s.done = true
	return nil
}

// emitSample emits one sample unless the cursor says it is old or was
// emitted already, and advances the cursor once emit has accepted it.
func (s *SensorSource) emitSample(ctx context.Context, emit exchange.Emit, t float64, raw []byte) error {
	if t < s.last {
		return nil
	}
	if t == s.last {
		if _, ok := s.seen[string(raw)]; ok {
			return nil
		}
	}
	v, err := s.ts.Decode(raw)
	if err != nil {
		return fmt.Errorf("telstateio: sensor source %s: sample at %v: %w", s.name(), t, err)
	}
	if s.cfg.timestamps {
		v = pyval.Tuple{pyval.Float(t), v}
	}
	if err := emit(ctx, v); err != nil {
		return err
	}
	s.advance(t, raw)
	return nil
}

// advance records the sample (t, raw) as emitted.
func (s *SensorSource) advance(t float64, raw []byte) {
	if t > s.last {
		s.last = t
		clear(s.seen)
	}
	s.seen[string(raw)] = struct{}{}
}

// Stop does nothing: Run releases its monitor when it returns, and the
// TelescopeState is the caller's.
func (s *SensorSource) Stop(context.Context) error { return nil }
