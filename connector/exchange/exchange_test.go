package exchange

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/pyval"
)

// seqSource emits int64 values id*1_000_000+seq, seq = 0…n-1 (n < 0: until
// stopped), and records which values were accepted (emit returned nil).
type seqSource struct {
	id, n    int
	yieldAll bool // runtime.Gosched between values, to interleave sources

	mu       sync.Mutex
	accepted []int64
	started  atomic.Bool
	stopped  atomic.Bool
	startErr error
	runErr   error // returned after emitting n values
}

func (s *seqSource) Start(context.Context) error {
	s.started.Store(true)
	return s.startErr
}

func (s *seqSource) Run(ctx context.Context, emit Emit) error {
	for seq := 0; s.n < 0 || seq < s.n; seq++ {
		v := int64(s.id*1_000_000 + seq)
		if err := emit(ctx, pyval.IntOf(v)); err != nil {
			return err
		}
		s.mu.Lock()
		s.accepted = append(s.accepted, v)
		s.mu.Unlock()
		if s.yieldAll {
			runtime.Gosched()
		}
	}
	return s.runErr
}

func (s *seqSource) Stop(context.Context) error {
	s.stopped.Store(true)
	return nil
}

func (s *seqSource) Accepted() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int64(nil), s.accepted...)
}

// recSink records what it receives. slow makes every write yield and
// sleep a little, so the fan-in channel fills and sources block.
type recSink struct {
	slow     bool
	failAt   int // fail the failAt-th write (1-based); 0 never
	blockAll bool

	mu      sync.Mutex
	got     []pyval.Value
	started atomic.Bool
	stopped atomic.Bool
	flushed atomic.Int32
}

var errSink = errors.New("sink exploded")

func (s *recSink) Start(context.Context) error { s.started.Store(true); return nil }

func (s *recSink) Write(ctx context.Context, v pyval.Value) error {
	if s.blockAll {
		<-ctx.Done()
		return ctx.Err()
	}
	if s.slow {
		select {
		case <-time.After(50 * time.Microsecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAt > 0 && len(s.got)+1 == s.failAt {
		return errSink
	}
	s.got = append(s.got, v)
	return nil
}

func (s *recSink) Flush(context.Context) error { s.flushed.Add(1); return nil }

func (s *recSink) Stop(context.Context) error { s.stopped.Store(true); return nil }

// Ints flattens what the sink received (ints, or int64 batches) in order.
func (s *recSink) Ints(t *testing.T) []int64 {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int64
	for _, v := range s.got {
		switch x := v.(type) {
		case pyval.Int:
			n, _ := x.Int64()
			out = append(out, n)
		case *pyval.NDArray:
			ns, err := x.Int64s()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ns...)
		default:
			t.Fatalf("sink got %s", pyval.Repr(v))
		}
	}
	return out
}

// fakeClock's tickers all share one channel the test sends ticks on.
type fakeClock struct{ ch chan time.Time }

func newFakeClock() *fakeClock                      { return &fakeClock{ch: make(chan time.Time)} }
func (f *fakeClock) NewTicker(time.Duration) Ticker { return f }
func (f *fakeClock) C() <-chan time.Time            { return f.ch }
func (f *fakeClock) Stop()                          {}
func (f *fakeClock) Tick(ctx context.Context) bool {
	select {
	case f.ch <- time.Time{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// checkDelivered asserts that got holds exactly the accepted values of
// every source, once each, in each source's order.
func checkDelivered(t *testing.T, got []int64, sources []*seqSource) {
	t.Helper()
	want := map[int64]bool{}
	total := 0
	for _, s := range sources {
		for _, v := range s.Accepted() {
			want[v] = true
			total++
		}
	}
	if len(got) != total {
		t.Fatalf("sink received %d values, sources had %d accepted", len(got), total)
	}
	last := map[int64]int64{}
	seen := map[int64]bool{}
	for _, v := range got {
		if !want[v] {
			t.Fatalf("sink received %d, which no source had accepted", v)
		}
		if seen[v] {
			t.Fatalf("sink received %d twice", v)
		}
		seen[v] = true
		id, seq := v/1_000_000, v%1_000_000
		if prev, ok := last[id]; ok && seq <= prev {
			t.Fatalf("source %d: value seq %d after seq %d", id, seq, prev)
		}
		last[id] = seq
	}
}

func TestRunDeliversEverything(t *testing.T) {
	cases := []struct {
		name     string
		sources  int
		perSrc   int
		pipe     string // "default", "buffer", "buffer0"
		slowSink bool
		buffer   int
	}{
		{"one source default pipe", 1, 500, "default", false, 64},
		{"many sources default pipe", 8, 300, "default", false, 4},
		{"many sources slow sink", 6, 100, "default", true, 1},
		{"buffer pipe flushed at end", 5, 300, "buffer", false, 8},
		{"buffer pipe slow sink", 4, 100, "buffer", true, 2},
		{"buffer pipe timespan 0", 3, 200, "buffer0", false, 16},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			var srcs []*seqSource
			var sources []Source
			for i := range tc.sources {
				s := &seqSource{id: i + 1, n: tc.perSrc, yieldAll: true}
				srcs = append(srcs, s)
				sources = append(sources, s)
			}
			clock := newFakeClock()
			var pipe Pipe
			switch tc.pipe {
			case "default":
				pipe = NewDefaultPipe(pyval.Int64, nil)
			case "buffer":
				p, err := NewBufferWithTimePipe(pyval.Int64, nil, time.Second)
				if err != nil {
					t.Fatal(err)
				}
				pipe = p
			case "buffer0":
				p, err := NewBufferWithTimePipe(pyval.Int64, nil, 0)
				if err != nil {
					t.Fatal(err)
				}
				pipe = p
			}
			sink := &recSink{slow: tc.slowSink}
			x, err := New(sources, pipe, sink, WithBuffer(tc.buffer), WithClock(clock), WithName(tc.name))
			if err != nil {
				t.Fatal(err)
			}
			if err := x.Start(ctx); err != nil {
				t.Fatal(err)
			}
			// Tick the window timer while the run goes on, so windows
			// close at arbitrary points in the stream.
			tickCtx, stopTicks := context.WithCancel(ctx)
			ticked := make(chan struct{})
			go func() {
				defer close(ticked)
				for clock.Tick(tickCtx) {
					runtime.Gosched()
				}
			}()
			runErr := x.Run(ctx)
			stopTicks()
			<-ticked
			if runErr != nil {
				t.Fatalf("Run: %v", runErr)
			}
			checkDelivered(t, sink.Ints(t), srcs)
			if err := x.Stop(ctx); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			st := x.Stats()
			total := uint64(tc.sources * tc.perSrc)
			if st.In != total || st.Processed != total || st.Lag != 0 || st.State != StateStopped || st.Err != nil {
				t.Errorf("stats %+v, want In = Processed = %d, Lag 0, stopped", st, total)
			}
			if tc.pipe == "default" && st.Out != total {
				t.Errorf("Out = %d, want %d", st.Out, total)
			}
			if sink.flushed.Load() != 1 || !sink.stopped.Load() {
				t.Errorf("sink flushed %d times, stopped %v", sink.flushed.Load(), sink.stopped.Load())
			}
			for _, s := range srcs {
				if !s.started.Load() || !s.stopped.Load() {
					t.Errorf("source %d: started %v stopped %v", s.id, s.started.Load(), s.stopped.Load())
				}
			}
		})
	}
}

// Stop in the middle of endless sources: every value a source saw
// accepted reaches the sink, including those buffered in the pipe.
func TestStopDeliversAccepted(t *testing.T) {
	for _, pipeKind := range []string{"default", "buffer"} {
		for _, slow := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s slow=%v", pipeKind, slow), func(t *testing.T) {
				ctx := context.Background()
				srcs := []*seqSource{{id: 1, n: -1}, {id: 2, n: -1, yieldAll: true}, {id: 3, n: -1}}
				var pipe Pipe = NewDefaultPipe(pyval.Int64, nil)
				if pipeKind == "buffer" {
					pipe, _ = NewBufferWithTimePipe(pyval.Int64, nil, time.Hour)
				}
				sink := &recSink{slow: slow}
				x, err := New([]Source{srcs[0], srcs[1], srcs[2]}, pipe, sink, WithBuffer(3), WithClock(newFakeClock()))
				if err != nil {
					t.Fatal(err)
				}
				if err := x.Start(ctx); err != nil {
					t.Fatal(err)
				}
				runErr := make(chan error, 1)
				go func() { runErr <- x.Run(ctx) }()
				for x.Stats().In < 200 {
					runtime.Gosched()
				}
				if err := x.Stop(ctx); err != nil {
					t.Fatalf("Stop: %v", err)
				}
				if err := <-runErr; err != nil {
					t.Fatalf("Run: %v", err)
				}
				checkDelivered(t, sink.Ints(t), srcs)
			})
		}
	}
}

func TestFirstErrorSurfaced(t *testing.T) {
	errSource := errors.New("source exploded")
	cases := []struct {
		name    string
		sources []*seqSource
		sink    *recSink
		pipe    Pipe
		want    error
	}{
		{"sink fails", []*seqSource{{id: 1, n: -1}, {id: 2, n: -1}}, &recSink{failAt: 5}, nil, errSink},
		{"source fails", []*seqSource{{id: 1, n: 3, runErr: errSource}, {id: 2, n: -1}}, &recSink{slow: true}, nil, errSource},
		{"pipe fails", []*seqSource{{id: 1, n: -1}}, &recSink{}, NewDefaultPipeFunc(errPipe), errPipe},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			var sources []Source
			for _, s := range tc.sources {
				sources = append(sources, s)
			}
			x, err := New(sources, tc.pipe, tc.sink, WithBuffer(2))
			if err != nil {
				t.Fatal(err)
			}
			if err := x.Start(ctx); err != nil {
				t.Fatal(err)
			}
			err = x.Run(ctx)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Run = %v, want %v", err, tc.want)
			}
			st := x.Stats()
			if st.State != StateFailed || !errors.Is(st.Err, tc.want) || st.Errors == 0 {
				t.Errorf("stats %+v, want failed with %v", st, tc.want)
			}
			if err := x.Stop(ctx); err != nil {
				t.Errorf("Stop: %v", err)
			}
			if !tc.sink.stopped.Load() {
				t.Error("sink not stopped")
			}
			if x.Stats().State != StateFailed {
				t.Errorf("state after Stop %v, want failed", x.Stats().State)
			}
		})
	}
}

var errPipe = errors.New("pipe exploded")

// funcPipe fails every Process with err.
type funcPipe struct{ err error }

// NewDefaultPipeFunc returns a pipe whose Process fails with err.
func NewDefaultPipeFunc(err error) Pipe                             { return funcPipe{err} }
func (funcPipe) OutputDType() pyval.DType                           { return pyval.Int64 }
func (funcPipe) OutputShape() []int                                 { return nil }
func (p funcPipe) Process(context.Context, pyval.Value, Emit) error { return p.err }
func (funcPipe) Flush(context.Context, Emit) error                  { return nil }

func TestStopWithBlockedSinkDoesNotDeadlock(t *testing.T) {
	ctx := context.Background()
	src := &seqSource{id: 1, n: -1}
	sink := &recSink{blockAll: true}
	x, err := New([]Source{src}, nil, sink, WithBuffer(2))
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Start(ctx); err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- x.Run(ctx) }()
	// Wait until the sink holds one value and the channel is full.
	for x.Stats().In < 3 {
		runtime.Gosched()
	}
	stopCtx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	err = x.Stop(stopCtx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop = %v, want a drain abandoned on the deadline", err)
	}
	if err := <-runErr; err == nil {
		t.Fatal("Run returned nil after an abandoned drain")
	}
	if x.Stats().State != StateFailed {
		t.Errorf("state %v, want failed", x.Stats().State)
	}
	if !sink.stopped.Load() || !src.stopped.Load() {
		t.Error("sink or source not stopped")
	}
}

func TestContextCancelAbortsRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	src := &seqSource{id: 1, n: -1}
	sink := &recSink{slow: true}
	x, err := New([]Source{src}, nil, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Start(ctx); err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- x.Run(ctx) }()
	for x.Stats().Out < 5 {
		runtime.Gosched()
	}
	cancel()
	if err := <-runErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if err := x.Stop(context.Background()); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

func TestLifecycleErrors(t *testing.T) {
	ctx := context.Background()
	errStart := errors.New("cannot subscribe")
	good := &seqSource{id: 1, n: 1}
	bad := &seqSource{id: 2, n: 1, startErr: errStart}
	sink := &recSink{}
	x, _ := New([]Source{good, bad}, nil, sink)
	if err := x.Run(ctx); !errors.Is(err, ErrNotStarted) {
		t.Errorf("Run before Start = %v", err)
	}
	if err := x.Start(ctx); !errors.Is(err, errStart) {
		t.Fatalf("Start = %v, want %v", err, errStart)
	}
	if !good.stopped.Load() || !sink.stopped.Load() {
		t.Error("a failed Start left the started parts running")
	}
	if x.Stats().State != StateFailed {
		t.Errorf("state %v", x.Stats().State)
	}

	y, _ := New([]Source{&seqSource{id: 1, n: 1}}, nil, &recSink{})
	if err := y.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := y.Start(ctx); !errors.Is(err, ErrStopped) {
		t.Errorf("Start after Stop = %v", err)
	}

	for _, tc := range []struct {
		name    string
		sources []Source
		sink    Sink
	}{
		{"no sources", nil, &recSink{}},
		{"nil source", []Source{nil}, &recSink{}},
		{"nil sink", []Source{&seqSource{}}, nil},
	} {
		if _, err := New(tc.sources, nil, tc.sink); err == nil {
			t.Errorf("New with %s succeeded", tc.name)
		}
	}
}

// Stats may be read at any time while the exchange runs (run with -race).
func TestStatsConcurrent(t *testing.T) {
	ctx := context.Background()
	x, _ := New([]Source{&seqSource{id: 1, n: 2000}, &seqSource{id: 2, n: 2000}}, nil, &recSink{})
	if err := x.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var reads atomic.Int64
	go func() {
		defer close(done)
		for x.Stats().State != StateDone {
			reads.Add(1)
			runtime.Gosched()
		}
	}()
	if err := x.Run(ctx); err != nil {
		t.Fatal(err)
	}
	<-done
	st := x.Stats()
	if st.In != 4000 || st.Out != 4000 || st.LastIn.IsZero() || st.LastOut.IsZero() {
		t.Errorf("stats %+v", st)
	}
}

func TestGroup(t *testing.T) {
	ctx := context.Background()
	t.Run("runs and stops together", func(t *testing.T) {
		var srcs [][]*seqSource
		var sinks []*recSink
		var xs []*Exchange
		for i := range 3 {
			ss := []*seqSource{{id: 1, n: -1}, {id: 2, n: 50 + i}}
			sink := &recSink{}
			x, _ := New([]Source{ss[0], ss[1]}, nil, sink, WithName(fmt.Sprint("x", i)))
			srcs, sinks, xs = append(srcs, ss), append(sinks, sink), append(xs, x)
		}
		g := NewGroup("g", xs...)
		if err := g.Start(ctx); err != nil {
			t.Fatal(err)
		}
		for _, x := range xs {
			for x.Stats().In < 100 {
				runtime.Gosched()
			}
		}
		if err := g.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		<-g.Done()
		for i := range xs {
			checkDelivered(t, sinks[i].Ints(t), srcs[i])
			if st := xs[i].Stats(); st.State != StateStopped {
				t.Errorf("exchange %d state %v", i, st.State)
			}
		}
		if len(g.Stats()) != 3 {
			t.Error("group stats")
		}
	})
	t.Run("one failure aborts the group, another group is untouched", func(t *testing.T) {
		bad, _ := New([]Source{&seqSource{id: 1, n: -1}}, nil, &recSink{failAt: 10})
		sibling, _ := New([]Source{&seqSource{id: 2, n: -1}}, nil, &recSink{slow: true})
		other, _ := New([]Source{&seqSource{id: 3, n: -1}}, nil, &recSink{})
		g1, g2 := NewGroup("g1", bad, sibling), NewGroup("g2", other)
		if err := g2.Start(ctx); err != nil {
			t.Fatal(err)
		}
		for other.Stats().In == 0 {
			runtime.Gosched()
		}
		if err := g1.Start(ctx); err != nil {
			t.Fatal(err)
		}
		<-g1.Done()
		if !errors.Is(g1.Err(), errSink) {
			t.Fatalf("group error %v", g1.Err())
		}
		if sibling.Stats().State != StateFailed {
			t.Errorf("sibling state %v, want failed (aborted)", sibling.Stats().State)
		}
		if err := g1.Stop(ctx); !errors.Is(err, errSink) {
			t.Errorf("Stop = %v", err)
		}
		select {
		case <-g2.Done():
			t.Fatal("the other group stopped")
		default:
		}
		if other.Stats().State != StateRunning {
			t.Errorf("other group's exchange %v", other.Stats().State)
		}
		if err := g2.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("start failure stops the started", func(t *testing.T) {
		okSink := &recSink{}
		ok, _ := New([]Source{&seqSource{id: 1, n: 1}}, nil, okSink)
		bad, _ := New([]Source{&seqSource{id: 2, n: 1, startErr: errors.New("no")}}, nil, &recSink{})
		g := NewGroup("g", ok, bad)
		if err := g.Start(ctx); err == nil {
			t.Fatal("Start succeeded")
		}
		if !okSink.stopped.Load() {
			t.Error("started exchange not stopped")
		}
		if err := g.Stop(ctx); err == nil {
			t.Error("Stop forgot the start failure")
		}
		<-g.Done()
	})
}

// blockingStartSource blocks in Start until released.
type blockingStartSource struct {
	seqSource
	release chan struct{}
}

func (s *blockingStartSource) Start(ctx context.Context) error {
	<-s.release
	return nil
}

// Stats does not wait for a slow Start (a Kafka source connecting).
func TestStatsDuringSlowStart(t *testing.T) {
	ctx := context.Background()
	src := &blockingStartSource{seqSource: seqSource{id: 1, n: 1}, release: make(chan struct{})}
	x, _ := New([]Source{src}, nil, &recSink{})
	started := make(chan error, 1)
	go func() { started <- x.Start(ctx) }()
	if st := x.Stats(); st.State != StateNew {
		t.Errorf("state during Start %v", st.State)
	}
	close(src.release)
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	if err := x.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := x.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// countingSource skips every other value as an error and reports the count.
type countingSource struct {
	n       int
	skipped atomic.Uint64
}

func (s *countingSource) Start(context.Context) error { return nil }
func (s *countingSource) Stop(context.Context) error  { return nil }
func (s *countingSource) ErrorCount() uint64          { return s.skipped.Load() }
func (s *countingSource) Run(ctx context.Context, emit Emit) error {
	for i := range s.n {
		if i%2 == 1 {
			s.skipped.Add(1)
			continue
		}
		if err := emit(ctx, pyval.IntOf(int64(i))); err != nil {
			return err
		}
	}
	return nil
}

func TestStatsCountsSkipped(t *testing.T) {
	src := &countingSource{n: 10}
	q := NewMemoryQueues()
	x, err := New([]Source{src}, nil, NewInMemorySink(q, "k"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := x.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := x.Run(ctx); err != nil {
		t.Fatal(err)
	}
	st := x.Stats()
	if st.In != 5 || st.Out != 5 || st.Errors != 5 || st.State != StateDone {
		t.Fatalf("stats %+v; want 5 in and out, 5 errors (the skipped values), done", st)
	}
}
