// Package exchange is the queue connector's data path: an Exchange pulls
// values from one or more Sources, passes them through one Pipe and writes
// what the pipe emits to one Sink. A Group starts and stops several
// exchanges together.
//
// # Model
//
// Each source runs in its own goroutine and hands values to the exchange
// through an Emit function. Emit puts the value into one bounded channel
// shared by all sources of the exchange (fan-in, in arrival order) and
// blocks while that channel is full: a slow pipe or sink slows the sources
// down, nothing is dropped. One goroutine takes values from the channel,
// feeds them to the pipe and writes every value the pipe emits to the sink,
// so pipes and sinks are never called concurrently by an exchange.
//
// # No payload lost
//
// A value is accepted when Emit returns nil. If Run returns nil, every
// accepted value has gone through the pipe, the pipe has been flushed and
// everything it emitted has been written to the sink (and the sink flushed,
// when it implements Flusher), whether the run ended because every source
// was exhausted or because Stop was called. If Run returns an error, the
// run failed and accepted values may be lost. The guarantee covers the
// in-process path only: what a source does before Emit (Kafka offsets, Tango
// events) and what a sink does after Write are theirs.
//
// # Stopping
//
// Stop follows the order of the Python connector: it cancels the sources'
// context so their Run methods return (the sources stop); the exchange drains
// what was already accepted through the pipe and the sink, flushes the pipe,
// writes the remainder, flushes the sink; then Stop calls Stop on every
// source and on the sink. Cancelling the context given to Run instead aborts:
// the sink sees a cancelled context, Run returns the context's error, and
// values in flight are lost.
package exchange

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sdpkit/sdpkit/pyval"
)

// Emit hands one value downstream. It blocks while downstream is full, and
// returns nil once the value has been accepted, or an error (the context's
// error when ctx or the exchange's source context is done) if it was not.
type Emit func(ctx context.Context, v pyval.Value) error

// Source produces values.
type Source interface {
	// Start acquires what the source needs (connections, subscriptions).
	Start(ctx context.Context) error
	// Run emits the source's values in order until the source is exhausted
	// (it returns nil) or ctx is done (it returns nil or ctx.Err()). When
	// emit returns an error the value was not accepted; Run must return
	// (that error or its own) without emitting more.
	Run(ctx context.Context, emit Emit) error
	// Stop releases what Start acquired. The exchange calls it after Run
	// has returned.
	Stop(ctx context.Context) error
}

// Pipe transforms the stream between sources and sink. An exchange calls a
// pipe's methods from one goroutine only.
type Pipe interface {
	// OutputDType is the dtype of the values the pipe emits.
	OutputDType() pyval.DType
	// OutputShape is the shape of the values the pipe emits; -1 marks a
	// dimension whose length varies.
	OutputShape() []int
	// Process takes one input value and emits zero or more outputs.
	Process(ctx context.Context, v pyval.Value, emit Emit) error
	// Flush emits whatever the pipe still holds; the exchange calls it once
	// at the end of a run.
	Flush(ctx context.Context, emit Emit) error
}

// WindowedPipe is a Pipe that also emits on a timer: every Interval the
// exchange calls CloseWindow.
type WindowedPipe interface {
	Pipe
	// Interval is the window length; 0 disables the timer.
	Interval() time.Duration
	// CloseWindow emits what the current window holds (nothing when it is
	// empty) and starts the next window.
	CloseWindow(ctx context.Context, emit Emit) error
}

// Sink consumes the stream.
type Sink interface {
	// Start acquires what the sink needs.
	Start(ctx context.Context) error
	// Write delivers one value. It must honour ctx: an exchange that is
	// aborted cancels it.
	Write(ctx context.Context, v pyval.Value) error
	// Stop flushes anything buffered and releases what Start acquired.
	Stop(ctx context.Context) error
}

// Flusher is implemented by sinks that buffer writes (a Kafka producer). An
// exchange calls Flush at the end of every successful run, so that Run
// returning nil means delivered.
type Flusher interface {
	Flush(ctx context.Context) error
}

// ErrorCounter is implemented by sources and sinks that carry on past a
// failure of one value instead of failing the run (a Kafka record that does
// not decode is skipped). Stats.Errors includes their counts.
type ErrorCounter interface {
	// ErrorCount returns the number of values dropped because of an error.
	ErrorCount() uint64
}

// Errors a caller can check with errors.Is.
var (
	// ErrNotStarted is returned by Run before Start.
	ErrNotStarted = errors.New("exchange: not started")
	// ErrStopped is returned by Start and Run after Stop.
	ErrStopped = errors.New("exchange: stopped")
	// ErrRunning is returned by a second concurrent Run.
	ErrRunning = errors.New("exchange: already running")
)

// State is an exchange's lifecycle state.
type State int

// The states of an exchange.
const (
	StateNew     State = iota // built, not started
	StateStarted              // sources and sink started, not running
	StateRunning              // Run in progress
	StateDone                 // Run returned nil; still started
	StateFailed               // Run or Start returned an error
	StateStopped              // Stop done
)

func (s State) String() string {
	switch s {
	case StateNew:
		return "new"
	case StateStarted:
		return "started"
	case StateRunning:
		return "running"
	case StateDone:
		return "done"
	case StateFailed:
		return "failed"
	case StateStopped:
		return "stopped"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Stats is a snapshot of an exchange's counters.
type Stats struct {
	Name  string
	State State
	// In counts values accepted from the sources.
	In uint64
	// Processed counts values the pipe has taken.
	Processed uint64
	// Out counts values written to the sink.
	Out uint64
	// Errors counts failures (source, pipe, sink, start, stop) and the
	// values sources and sinks dropped on an error (ErrorCounter).
	Errors uint64
	// Lag is the number of accepted values the pipe has not taken yet.
	Lag int
	// LastIn and LastOut are the times of the last accepted value and of
	// the last sink write; zero if none.
	LastIn, LastOut time.Time
	// Err is the first error of the failed run, if any.
	Err error
}

// Clock makes the tickers windowed pipes run on; tests substitute a fake.
type Clock interface {
	NewTicker(d time.Duration) Ticker
}

// Ticker is the part of time.Ticker an exchange uses.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

type realClock struct{}

type realTicker struct{ t *time.Ticker }

func (realClock) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }
func (r realTicker) C() <-chan time.Time           { return r.t.C }
func (r realTicker) Stop()                         { r.t.Stop() }

// Option configures an Exchange.
type Option func(*Exchange)

// WithName names the exchange in errors and Stats.
func WithName(name string) Option { return func(e *Exchange) { e.name = name } }

// WithBuffer sets the capacity of the fan-in channel (default 64; at
// least 1).
func WithBuffer(n int) Option { return func(e *Exchange) { e.buffer = max(n, 1) } }

// WithClock sets the clock for windowed pipes (default: the real clock).
func WithClock(c Clock) Option { return func(e *Exchange) { e.clock = c } }

// WithNow sets the time source of the Stats timestamps (default time.Now).
func WithNow(now func() time.Time) Option { return func(e *Exchange) { e.now = now } }

// Exchange moves values from its sources through its pipe to its sink.
// Its methods are safe for concurrent use.
type Exchange struct {
	name    string
	sources []Source
	pipe    Pipe
	sink    Sink
	buffer  int
	clock   Clock
	now     func() time.Time

	in, processed, out, errs atomic.Uint64
	lastIn, lastOut          atomic.Int64

	lifeMu     sync.Mutex
	mu         sync.Mutex
	state      State
	err        error
	stopSrc    context.CancelFunc // graceful: stop the sources
	abort      context.CancelFunc // abort the run
	runDone    chan struct{}
	stopCalled bool
}

// New returns an exchange. A nil pipe is the identity (DefaultPipe).
func New(sources []Source, pipe Pipe, sink Sink, opts ...Option) (*Exchange, error) {
	if len(sources) == 0 {
		return nil, errors.New("exchange: no sources")
	}
	for i, s := range sources {
		if s == nil {
			return nil, fmt.Errorf("exchange: source %d is nil", i)
		}
	}
	if sink == nil {
		return nil, errors.New("exchange: nil sink")
	}
	if pipe == nil {
		pipe = NewDefaultPipe(pyval.DType{Kind: 'O', ByteOrder: '|', Size: 8}, nil)
	}
	e := &Exchange{
		name:    "exchange",
		sources: append([]Source(nil), sources...),
		pipe:    pipe,
		sink:    sink,
		buffer:  64,
		clock:   realClock{},
		now:     time.Now,
	}
	for _, o := range opts {
		o(e)
	}
	return e, nil
}

// Name returns the exchange's name.
func (e *Exchange) Name() string { return e.name }

// Pipe returns the exchange's pipe.
func (e *Exchange) Pipe() Pipe { return e.pipe }

// Sink returns the exchange's sink.
func (e *Exchange) Sink() Sink { return e.sink }

// Start starts the sink, then the sources. If one fails, what was started is
// stopped again, the exchange is failed and the error returned.
func (e *Exchange) Start(ctx context.Context) error {
	// lifeMu serialises Start and Stop; mu is only held briefly, so Stats
	// stays readable while a slow source connects.
	e.lifeMu.Lock()
	defer e.lifeMu.Unlock()
	e.mu.Lock()
	state := e.state
	e.mu.Unlock()
	switch state {
	case StateNew:
	case StateStopped:
		return ErrStopped
	default:
		return nil
	}
	if err := e.sink.Start(ctx); err != nil {
		return e.failStart(fmt.Errorf("exchange %s: start sink: %w", e.name, err))
	}
	for i, s := range e.sources {
		if err := s.Start(ctx); err != nil {
			err = fmt.Errorf("exchange %s: start source %d: %w", e.name, i, err)
			var errs []error
			for j := i - 1; j >= 0; j-- {
				errs = append(errs, e.sources[j].Stop(ctx))
			}
			errs = append(errs, e.sink.Stop(ctx))
			if serr := errors.Join(errs...); serr != nil {
				err = fmt.Errorf("%w (and stopping: %v)", err, serr)
			}
			return e.failStart(err)
		}
	}
	e.mu.Lock()
	e.state = StateStarted
	e.mu.Unlock()
	return nil
}

func (e *Exchange) failStart(err error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errs.Add(1)
	e.state = StateFailed
	e.err = err
	return err
}

// Run streams until every source is exhausted or Stop is called, then
// drains, flushes the pipe, writes the remainder and flushes the sink. It
// returns nil only if everything accepted reached the sink; otherwise the
// first error (a source's, the pipe's, the sink's, or ctx's when ctx was
// cancelled) and the exchange is failed. Run may be called once per Start.
func (e *Exchange) Run(ctx context.Context) error {
	e.mu.Lock()
	switch e.state {
	case StateStarted:
	case StateNew:
		e.mu.Unlock()
		return ErrNotStarted
	case StateRunning:
		e.mu.Unlock()
		return ErrRunning
	case StateStopped:
		e.mu.Unlock()
		return ErrStopped
	default:
		e.mu.Unlock()
		return fmt.Errorf("exchange %s: Run after a finished run (%s): %w", e.name, e.state, ErrRunning)
	}
	runCtx, abort := context.WithCancel(ctx)
	srcCtx, stopSrc := context.WithCancel(runCtx)
	e.abort, e.stopSrc = abort, stopSrc
	e.runDone = make(chan struct{})
	e.state = StateRunning
	e.mu.Unlock()

	err := e.run(runCtx, srcCtx, stopSrc)
	abort()

	e.mu.Lock()
	if err != nil {
		e.errs.Add(1)
		e.state, e.err = StateFailed, err
	} else {
		e.state = StateDone
	}
	close(e.runDone)
	e.mu.Unlock()
	return err
}

func (e *Exchange) run(runCtx, srcCtx context.Context, stopSrc context.CancelFunc) error {
	queue := make(chan pyval.Value, e.buffer)

	var (
		firstMu  sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		firstMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		firstMu.Unlock()
	}

	emit := func(ctx context.Context, v pyval.Value) error {
		if err := srcCtx.Err(); err != nil {
			return err
		}
		// Fast path: a queue with room takes the value without the
		// three-way select (a non-blocking send is much cheaper).
		select {
		case queue <- v:
			e.in.Add(1)
			e.lastIn.Store(e.now().UnixNano())
			return nil
		default:
		}
		select {
		case queue <- v:
			e.in.Add(1)
			e.lastIn.Store(e.now().UnixNano())
			return nil
		case <-srcCtx.Done():
			return srcCtx.Err()
		case <-ctx.Done():
			return ctx.Err()
		}
	}

	var wg sync.WaitGroup
	for i, s := range e.sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Run(srcCtx, emit)
			// A source told to stop may report the cancellation; that
			// is not a failure unless the run itself was aborted.
			if err != nil && !(errors.Is(err, context.Canceled) && srcCtx.Err() != nil && runCtx.Err() == nil) {
				fail(fmt.Errorf("exchange %s: source %d: %w", e.name, i, err))
				e.abortRun()
			}
		}()
	}
	go func() {
		wg.Wait()
		close(queue)
	}()

	write := func(ctx context.Context, v pyval.Value) error {
		if err := e.sink.Write(ctx, v); err != nil {
			return fmt.Errorf("exchange %s: sink: %w", e.name, err)
		}
		e.out.Add(1)
		e.lastOut.Store(e.now().UnixNano())
		return nil
	}

	var tick <-chan time.Time
	wp, windowed := e.pipe.(WindowedPipe)
	if windowed && wp.Interval() > 0 {
		t := e.clock.NewTicker(wp.Interval())
		defer t.Stop()
		tick = t.C()
	}

	consumeErr := func() error {
		fast := 0
		for {
			// Fast path: while values are waiting and no window timer
			// needs watching, take them with a non-blocking receive; the
			// run's context is still checked every 64 values so that an
			// abort is not starved by a busy queue.
			if tick == nil && fast < 64 {
				select {
				case v, ok := <-queue:
					if !ok {
						return nil
					}
					fast++
					e.processed.Add(1)
					if err := e.pipe.Process(runCtx, v, write); err != nil {
						return fmt.Errorf("exchange %s: pipe: %w", e.name, err)
					}
					continue
				default:
				}
			}
			fast = 0
			select {
			case v, ok := <-queue:
				if !ok {
					return nil
				}
				e.processed.Add(1)
				if err := e.pipe.Process(runCtx, v, write); err != nil {
					return fmt.Errorf("exchange %s: pipe: %w", e.name, err)
				}
			case <-tick:
				if err := wp.CloseWindow(runCtx, write); err != nil {
					return fmt.Errorf("exchange %s: pipe window: %w", e.name, err)
				}
			case <-runCtx.Done():
				return fmt.Errorf("exchange %s: %w", e.name, runCtx.Err())
			}
		}
	}()
	if consumeErr != nil {
		fail(consumeErr)
		e.abortRun()
	}
	// Every source goroutine has returned once the queue is closed; wait
	// for it so no goroutine outlives Run.
	stopSrc()
	for range queue {
	}
	wg.Wait()

	firstMu.Lock()
	err := firstErr
	firstMu.Unlock()
	if err != nil {
		return err
	}
	if err := runCtx.Err(); err != nil {
		return fmt.Errorf("exchange %s: %w", e.name, err)
	}
	if err := e.pipe.Flush(runCtx, write); err != nil {
		return fmt.Errorf("exchange %s: pipe flush: %w", e.name, err)
	}
	if f, ok := e.sink.(Flusher); ok {
		if err := f.Flush(runCtx); err != nil {
			return fmt.Errorf("exchange %s: sink flush: %w", e.name, err)
		}
	}
	return nil
}

func (e *Exchange) abortRun() {
	e.mu.Lock()
	abort := e.abort
	e.mu.Unlock()
	if abort != nil {
		abort()
	}
}

// Stop stops the exchange: the sources stop, a running Run drains and
// flushes (see the package documentation), then the sources and the sink
// are stopped. If ctx ends before the drain does, the run is aborted (its
// in-flight values are lost) and Stop still waits for Run to return, which
// is prompt when the sink honours its context. Stop returns the errors of
// stopping the sources and the sink; the run's own error is Run's result
// (and in Stats). Calling Stop again returns nil.
func (e *Exchange) Stop(ctx context.Context) error {
	e.lifeMu.Lock()
	defer e.lifeMu.Unlock()
	e.mu.Lock()
	if e.stopCalled {
		e.mu.Unlock()
		return nil
	}
	e.stopCalled = true
	state := e.state
	done := e.runDone
	stopSrc, abort := e.stopSrc, e.abort
	if state != StateRunning && state != StateFailed {
		e.state = StateStopped
	}
	e.mu.Unlock()

	var abortErr error
	if state == StateRunning {
		stopSrc()
		select {
		case <-done:
		case <-ctx.Done():
			abortErr = fmt.Errorf("exchange %s: stop: drain abandoned: %w", e.name, ctx.Err())
			abort()
			<-done
		}
	}
	if state == StateNew {
		return nil
	}
	if state == StateFailed && done == nil {
		// Start failed and already stopped what it had started.
		return nil
	}
	errs := []error{abortErr}
	for i, s := range e.sources {
		if err := s.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("exchange %s: stop source %d: %w", e.name, i, err))
		}
	}
	if err := e.sink.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("exchange %s: stop sink: %w", e.name, err))
	}
	err := errors.Join(errs...)
	e.mu.Lock()
	if err != nil {
		e.errs.Add(1)
	}
	if e.state != StateFailed {
		e.state = StateStopped
	}
	e.mu.Unlock()
	return err
}

// Err returns the error of a failed Start or Run, or nil.
func (e *Exchange) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// Stats returns a snapshot of the exchange's counters. It is safe to call
// at any time, from any goroutine.
func (e *Exchange) Stats() Stats {
	e.mu.Lock()
	st := Stats{Name: e.name, State: e.state, Err: e.err}
	e.mu.Unlock()
	st.In = e.in.Load()
	st.Processed = e.processed.Load()
	st.Out = e.out.Load()
	st.Errors = e.errs.Load()
	for _, s := range e.sources {
		if c, ok := s.(ErrorCounter); ok {
			st.Errors += c.ErrorCount()
		}
	}
	if c, ok := e.sink.(ErrorCounter); ok {
		st.Errors += c.ErrorCount()
	}
	if st.In > st.Processed {
		st.Lag = int(st.In - st.Processed)
	}
	if t := e.lastIn.Load(); t != 0 {
		st.LastIn = time.Unix(0, t)
	}
	if t := e.lastOut.Load(); t != 0 {
		st.LastOut = time.Unix(0, t)
	}
	return st
}
