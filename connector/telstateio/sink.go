package telstateio

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
	"github.com/sdpkit/sdpkit/telstate/backend"
	"github.com/sdpkit/sdpkit/telstate/encoding"
)

// ErrNotTimestamped is returned by the Write of a sink with
// TimestampedValues for a value that is not a (timestamp, value) pair.
var ErrNotTimestamped = errors.New("telstateio: value is not a (timestamp, value) pair")

// ErrSinkStopped is returned by Write after Stop.
var ErrSinkStopped = errors.New("telstateio: sink stopped")

// Defaults of the batch limits (see WithMaxBatch).
const (
	DefaultMaxBatch      = 1000
	DefaultMaxBatchBytes = 4 << 20
)

// SinkOption configures a Sink.
type SinkOption func(*sinkConfig)

type sinkConfig struct {
	immutable   bool
	timestamped bool
	maxBatch    int
	maxBytes    int
	now         func() float64
	retry       time.Duration
}

// RetryWrites sets how long the sink keeps retrying a batch, with
// back-off, when the backend's connection is lost (errors matching
// telstate.ErrConnection, such as a Redis server restarting) before the
// sink fails; default DefaultRetry, 0 fails at once. Retrying is safe:
// adding a sample that is already stored changes nothing. Immutable sinks
// do not retry (the exchange sees the error).
func RetryWrites(d time.Duration) SinkOption {
	return func(c *sinkConfig) { c.retry = max(d, 0) }
}

// Immutable makes the sink set the key as an immutable attribute instead
// of adding sensor samples. The first value sets it; writing an equal value
// again succeeds, a different one fails with telstate.ErrImmutableKey. With
// TimestampedValues the pair's timestamp is dropped.
func Immutable() SinkOption { return func(c *sinkConfig) { c.immutable = true } }

// TimestampedValues makes the sink read each value as a (timestamp, value)
// pair, a tuple or list of two items whose first is a real number (seconds
// since the Unix epoch), and add the value at that timestamp. Any other
// value fails its Write with ErrNotTimestamped. Without this option every
// value is stored as it is, stamped with the time of writing.
func TimestampedValues() SinkOption { return func(c *sinkConfig) { c.timestamped = true } }

// WithMaxBatch bounds the samples queued for one backend call: at most n
// samples (default DefaultMaxBatch) and about bytes encoded bytes (default
// DefaultMaxBatchBytes; one larger value still goes, alone). Write blocks
// while the queue is full. n of 1 writes every sample on its own.
func WithMaxBatch(n, bytes int) SinkOption {
	return func(c *sinkConfig) { c.maxBatch, c.maxBytes = max(n, 1), max(bytes, 1) }
}

// WithNow replaces the clock that stamps samples (default telstate.Now,
// seconds since the Unix epoch).
func WithNow(now func() float64) SinkOption { return func(c *sinkConfig) { c.now = now } }

// Sink is an exchange.Sink (and exchange.Flusher) writing each value to one
// telstate key under the first prefix of its TelescopeState's view: as a
// sensor sample, batched (see the package documentation), or with Immutable
// as an attribute.
type Sink struct {
	ts  *telstate.TelescopeState
	be  backend.Backend
	key string
	fk  []byte // the full key written
	cfg sinkConfig

	last float64 // the previous stamp given by the clock (Write only)

	mu       sync.Mutex
	started  bool
	stopped  bool
	pending  []backend.Sample
	bytes    int
	spare    []backend.Sample // the previous batch's array, for reuse
	inFlight bool
	err      error         // first failed batch; sticky
	wake     chan struct{} // capacity 1: the writer has work or must stop
	idle     chan struct{} // closed and replaced when a batch completes
	cancel   context.CancelFunc
	done     chan struct{} // closed when the writer returns
}

var (
	_ exchange.Sink    = (*Sink)(nil)
	_ exchange.Flusher = (*Sink)(nil)
)

// NewSink returns a sink writing to key in ts (a view, for a namespace:
// the key is written under its first prefix). ts stays the caller's: it
// must remain open while the sink is in use.
func NewSink(ts *telstate.TelescopeState, key string, opts ...SinkOption) (*Sink, error) {
	if ts == nil {
		return nil, errors.New("telstateio: sink: nil TelescopeState")
	}
	if key == "" {
		return nil, errors.New("telstateio: sink: empty key")
	}
	s := &Sink{
		ts: ts, be: ts.Backend(), key: key,
		fk:  []byte(ts.Prefixes()[0] + key),
		cfg: sinkConfig{maxBatch: DefaultMaxBatch, maxBytes: DefaultMaxBatchBytes, now: telstate.Now, retry: DefaultRetry},
	}
	for _, o := range opts {
		o(&s.cfg)
	}
	return s, nil
}

// Key returns the key written (without the view's prefix).
func (s *Sink) Key() string { return s.key }

func (s *Sink) name() string { return pyval.StrRepr(string(s.fk)) }

// Start checks that the key is absent or of the kind the sink writes, and
// starts the batch writer.
func (s *Sink) Start(ctx context.Context) error {
	t, err := s.be.KeyType(ctx, s.fk)
	if err != nil {
		return fmt.Errorf("telstateio: sink %s: start: %w", s.name(), err)
	}
	want := backend.Mutable
	if s.cfg.immutable {
		want = backend.Immutable
	}
	if t != backend.KeyNone && t != want {
		return fmt.Errorf("%w: sink: %s is %v, not %v", telstate.ErrImmutableKey, s.name(), t, want)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return ErrSinkStopped
	}
	if s.started {
		return nil
	}
	s.started = true
	s.last = math.Inf(-1)
	if !s.cfg.immutable {
		// The writer outlives Start's context (a start timeout) and ends
		// in Stop.
		wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		s.cancel = cancel
		s.wake = make(chan struct{}, 1)
		s.idle = make(chan struct{})
		s.done = make(chan struct{})
		go s.writer(wctx)
	}
	return nil
}

// Write stores v: with Immutable it sets the key now; otherwise it queues
// a sample for the writer, waiting while the queue is full or until ctx is
// done. An error of an earlier batch is returned here.
func (s *Sink) Write(ctx context.Context, v pyval.Value) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var t float64
	if s.cfg.timestamped {
		var err error
		if t, v, err = splitTimestamped(v); err != nil {
			return fmt.Errorf("telstateio: sink %s: %w", s.name(), err)
		}
	}
	if s.cfg.immutable {
		if err := s.usable(); err != nil {
			return err
		}
		if err := s.ts.Set(ctx, s.key, v); err != nil {
			return fmt.Errorf("telstateio: sink: %w", err)
		}
		return nil
	}
	enc, err := encoding.Encode(v)
	if err != nil {
		return fmt.Errorf("telstateio: sink %s: %w", s.name(), err)
	}
	if !s.cfg.timestamped {
		t = s.stamp()
	} else if err := backend.CheckTimestamp(t); err != nil {
		return fmt.Errorf("telstateio: sink %s: timestamp %v: %w", s.name(), t, err)
	}
	smp := backend.Sample{Value: enc, Timestamp: math.Abs(t)}
	for {
		s.mu.Lock()
		switch {
		case s.err != nil:
			err := s.err
			s.mu.Unlock()
			return err
		case s.stopped:
			s.mu.Unlock()
			return fmt.Errorf("%w: %s", ErrSinkStopped, s.name())
		case !s.started:
			s.mu.Unlock()
			return fmt.Errorf("%w: sink %s", ErrNotStarted, s.name())
		case len(s.pending) == 0 || len(s.pending) < s.cfg.maxBatch && s.bytes+len(enc) <= s.cfg.maxBytes:
			s.pending = append(s.pending, smp)
			s.bytes += len(enc)
			s.mu.Unlock()
			select {
			case s.wake <- struct{}{}:
			default:
			}
			return nil
		}
		idle := s.idle
		s.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// stamp returns the time of writing, strictly after the previous stamp.
func (s *Sink) stamp() float64 {
	t := s.cfg.now()
	if t <= s.last {
		t = math.Nextafter(s.last, math.Inf(1))
	}
	s.last = t
	return t
}

// usable reports why an immutable sink cannot write now, if it cannot.
func (s *Sink) usable() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopped:
		return fmt.Errorf("%w: %s", ErrSinkStopped, s.name())
	case !s.started:
		return fmt.Errorf("%w: sink %s", ErrNotStarted, s.name())
	}
	return nil
}

// splitTimestamped splits a (timestamp, value) pair.
func splitTimestamped(v pyval.Value) (float64, pyval.Value, error) {
	var items []pyval.Value
	switch x := v.(type) {
	case pyval.Tuple:
		items = x
	case pyval.List:
		items = x
	}
	if len(items) != 2 {
		return 0, nil, fmt.Errorf("%w: got %.100s", ErrNotTimestamped, pyval.Repr(v))
	}
	switch items[0].(type) {
	case pyval.Bool, pyval.Complex:
		return 0, nil, fmt.Errorf("%w: timestamp %s", ErrNotTimestamped, pyval.Repr(items[0]))
	}
	t, err := pyval.AsFloat64(items[0])
	if err != nil {
		return 0, nil, fmt.Errorf("%w: timestamp %s: %w", ErrNotTimestamped, pyval.Repr(items[0]), err)
	}
	return t, items[1], nil
}

// writer adds the queued samples, one batch per backend call, until Stop.
func (s *Sink) writer(ctx context.Context) {
	defer close(s.done)
	for {
		select {
		case <-s.wake:
		case <-ctx.Done():
			return
		}
		for {
			s.mu.Lock()
			if len(s.pending) == 0 || s.err != nil {
				s.mu.Unlock()
				break
			}
			batch := s.pending
			s.pending, s.bytes, s.inFlight = s.spare[:0], 0, true
			s.spare = nil
			s.mu.Unlock()

			retry := retrier{limit: s.cfg.retry}
			err := s.add(ctx, batch)
			for err != nil && ctx.Err() == nil && errors.Is(err, backend.ErrConnection) && retry.fail() && retry.wait(ctx) {
				err = s.add(ctx, batch)
			}

			s.mu.Lock()
			s.inFlight = false
			if err != nil && s.err == nil {
				s.err = err
			}
			clear(batch) // drop the encoded values
			s.spare = batch[:0]
			close(s.idle)
			s.idle = make(chan struct{})
			s.mu.Unlock()
		}
	}
}

// add stores one batch: in one call when the backend batches
// (backend.BatchAdder, a Redis pipeline), else sample by sample.
func (s *Sink) add(ctx context.Context, batch []backend.Sample) error {
	var err error
	if ba, ok := s.be.(backend.BatchAdder); ok {
		err = ba.AddMutables(ctx, s.fk, batch)
	} else {
		for _, smp := range batch {
			if err = s.be.AddMutable(ctx, s.fk, smp.Value, smp.Timestamp); err != nil {
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("telstateio: sink %s: adding %d samples: %w", s.name(), len(batch), err)
	}
	return nil
}

// Flush waits until every queued sample has been stored, and returns the
// error of a failed batch if any. The exchange calls it at the end of every
// run.
func (s *Sink) Flush(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.err != nil || !s.started || s.cfg.immutable || len(s.pending) == 0 && !s.inFlight {
			err := s.err
			s.mu.Unlock()
			return err
		}
		idle := s.idle
		s.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return fmt.Errorf("telstateio: sink %s: flush: %w", s.name(), ctx.Err())
		}
	}
}

// Stop flushes (as Flush) and stops the writer. When ctx ends first the
// samples still queued are dropped and the error says so. The
// TelescopeState stays open: it is the caller's.
func (s *Sink) Stop(ctx context.Context) error {
	ferr := s.Flush(ctx)
	s.mu.Lock()
	if s.stopped || !s.started {
		s.stopped = true
		s.mu.Unlock()
		return ferr
	}
	s.stopped = true
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	return ferr
}
