package telstateio

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
	"github.com/sdpkit/sdpkit/telstate/backend"
	"github.com/sdpkit/sdpkit/telstate/memory"
	"github.com/sdpkit/sdpkit/telstate/redis"
)

// gatedBackend is a memory backend whose batch adds can be held at a gate
// and made to fail, and which records the size of every batch.
type gatedBackend struct {
	backend.Backend
	gate chan struct{} // nil: open; else each AddMutables takes one token

	mu      sync.Mutex
	batches []int
	fail    error
	failN   int           // fail this many more calls (with fail)
	entered chan struct{} // receives once per AddMutables call
}

func (b *gatedBackend) AddMutables(ctx context.Context, key []byte, samples []backend.Sample) error {
	b.entered <- struct{}{}
	if b.gate != nil {
		select {
		case <-b.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	b.mu.Lock()
	b.batches = append(b.batches, len(samples))
	fail := b.fail
	if b.failN > 0 {
		b.failN--
		if b.failN == 0 {
			b.fail = nil
		}
	}
	b.mu.Unlock()
	if fail != nil {
		return fail
	}
	return b.Backend.(backend.BatchAdder).AddMutables(ctx, key, samples)
}

func newGated(gated bool) *gatedBackend {
	b := &gatedBackend{Backend: memory.New(), entered: make(chan struct{}, 1<<16)}
	if gated {
		b.gate = make(chan struct{})
	}
	return b
}

func startSink(t *testing.T, ts *telstate.TelescopeState, key string, opts ...SinkOption) *Sink {
	t.Helper()
	s, err := NewSink(ts, key, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	return s
}

func samples(t *testing.T, ts *telstate.TelescopeState, key string) []telstate.Sample {
	t.Helper()
	ss, err := ts.GetRange(context.Background(), key, telstate.Start(0))
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// TestSinkBatches: values written while a batch is on its way go together
// into the next one; Flush waits for all of them.
func TestSinkBatches(t *testing.T) {
	ctx := context.Background()
	gb := newGated(true)
	ts := telstate.New(telstate.WithBackend(gb))
	s := startSink(t, ts, "k")
	const n = 100
	if err := s.Write(ctx, pyval.IntOf(0)); err != nil {
		t.Fatal(err)
	}
	<-gb.entered // the first batch (one value) is held at the gate
	for i := 1; i < n; i++ {
		if err := s.Write(ctx, pyval.IntOf(int64(i))); err != nil {
			t.Fatal(err)
		}
	}
	close(gb.gate)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if want := []int{1, n - 1}; !equalInts(gb.batches, want) {
		t.Errorf("batches %v, want %v", gb.batches, want)
	}
	ss := samples(t, ts, "k")
	var got []pyval.Value
	for i, smp := range ss {
		got = append(got, smp.Value)
		if i > 0 && !(smp.Timestamp > ss[i-1].Timestamp) {
			t.Errorf("stamp %d (%v) not after stamp %d (%v)", i, smp.Timestamp, i-1, ss[i-1].Timestamp)
		}
	}
	sameValues(t, "stored", got, ints(0, n))
}

// TestSinkQueueLimit: with the queue full, Write waits, and gives up when
// its context ends; WithMaxBatch bounds each batch.
func TestSinkQueueLimit(t *testing.T) {
	ctx := context.Background()
	gb := newGated(true)
	ts := telstate.New(telstate.WithBackend(gb))
	s := startSink(t, ts, "k", WithMaxBatch(3, 1<<20))
	for i := range 4 { // one in flight, three queued
		if err := s.Write(ctx, pyval.IntOf(int64(i))); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			<-gb.entered
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Write(cancelled, pyval.IntOf(99)); !errors.Is(err, context.Canceled) {
		t.Errorf("Write to a full queue with a cancelled context: %v", err)
	}
	// Unblock everything; a waiting Write then gets through.
	done := make(chan error, 1)
	go func() { done <- s.Write(ctx, pyval.IntOf(4)) }()
	go func() {
		for range 3 {
			gb.gate <- struct{}{}
		}
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var got []pyval.Value
	for _, smp := range samples(t, ts, "k") {
		got = append(got, smp.Value)
	}
	sameValues(t, "stored", got, ints(0, 5))
	for _, n := range gb.batches {
		if n > 3 {
			t.Errorf("batch of %d > 3", n)
		}
	}
}

// TestSinkBatchError: a failed batch fails the next Write or Flush, and
// the sink stays failed.
func TestSinkBatchError(t *testing.T) {
	ctx := context.Background()
	gb := newGated(false)
	boom := errors.New("boom")
	gb.fail = boom
	ts := telstate.New(telstate.WithBackend(gb))
	s := startSink(t, ts, "k")
	if err := s.Write(ctx, pyval.IntOf(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); !errors.Is(err, boom) {
		t.Errorf("Flush after a failed batch: %v", err)
	}
	if err := s.Write(ctx, pyval.IntOf(2)); !errors.Is(err, boom) {
		t.Errorf("Write after a failed batch: %v", err)
	}
	if err := s.Stop(ctx); !errors.Is(err, boom) {
		t.Errorf("Stop after a failed batch: %v", err)
	}
}

// TestSinkStamps: with a clock that does not move, stamps still increase,
// so equal values stay distinct samples.
func TestSinkStamps(t *testing.T) {
	ctx := context.Background()
	ts := telstate.New()
	s := startSink(t, ts, "k", WithNow(func() float64 { return 1000 }))
	for range 3 {
		if err := s.Write(ctx, pyval.Str("same")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ss := samples(t, ts, "k")
	want := []float64{1000, math.Nextafter(1000, 2000), math.Nextafter(math.Nextafter(1000, 2000), 2000)}
	if len(ss) != 3 {
		t.Fatalf("%d samples stored, want 3", len(ss))
	}
	for i, smp := range ss {
		if smp.Timestamp != want[i] || !pyval.Equal(smp.Value, pyval.Str("same")) {
			t.Errorf("sample %d: (%v, %s), want (%v, 'same')", i, smp.Timestamp, pyval.Repr(smp.Value), want[i])
		}
	}
}

// TestSinkTimestampedValues: pairs are stored at their own timestamps;
// anything else is refused.
func TestSinkTimestampedValues(t *testing.T) {
	ctx := context.Background()
	ts := telstate.New()
	s := startSink(t, ts, "k", TimestampedValues())
	for _, v := range []pyval.Value{
		pyval.Tuple{pyval.Float(2.5), pyval.Str("b")},
		pyval.List{pyval.IntOf(1), pyval.Str("a")},
		pyval.Tuple{pyval.ScalarOf(float32(3)), pyval.Str("c")},
		pyval.Tuple{pyval.Float(-0.0), pyval.Str("zero")},
	} {
		if err := s.Write(ctx, v); err != nil {
			t.Fatalf("Write(%s): %v", pyval.Repr(v), err)
		}
	}
	for _, c := range []struct {
		v    pyval.Value
		want error
	}{
		{pyval.Str("bare"), ErrNotTimestamped},
		{pyval.Tuple{pyval.Float(1)}, ErrNotTimestamped},
		{pyval.Tuple{pyval.Str("1"), pyval.Str("x")}, ErrNotTimestamped},
		{pyval.Tuple{pyval.Bool(true), pyval.Str("x")}, ErrNotTimestamped},
		{pyval.Tuple{pyval.Float(math.NaN()), pyval.Str("x")}, telstate.ErrInvalidTimestamp},
		{pyval.Tuple{pyval.Float(-1), pyval.Str("x")}, telstate.ErrInvalidTimestamp},
	} {
		if err := s.Write(ctx, c.v); !errors.Is(err, c.want) {
			t.Errorf("Write(%s): %v, want %v", pyval.Repr(c.v), err, c.want)
		}
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var got []pyval.Value
	for _, smp := range samples(t, ts, "k") {
		got = append(got, pyval.Tuple{pyval.Float(smp.Timestamp), smp.Value})
	}
	sameValues(t, "stored", got, []pyval.Value{
		pyval.Tuple{pyval.Float(0), pyval.Str("zero")},
		pyval.Tuple{pyval.Float(1), pyval.Str("a")},
		pyval.Tuple{pyval.Float(2.5), pyval.Str("b")},
		pyval.Tuple{pyval.Float(3), pyval.Str("c")},
	})
}

// TestSinkImmutable: the first value sets the attribute; the same value
// again is fine, another is ErrImmutableKey. Both backends.
func TestSinkImmutable(t *testing.T) {
	ctx := context.Background()
	for _, st := range stores() {
		t.Run(st.name, func(t *testing.T) {
			ts := st.open(t)
			s := startSink(t, ts.View("ns"), "attr", Immutable())
			if err := s.Write(ctx, pyval.StrDict("a", pyval.IntOf(1))); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(ctx, pyval.StrDict("a", pyval.IntOf(1))); err != nil {
				t.Errorf("same value again: %v", err)
			}
			if err := s.Write(ctx, pyval.StrDict("a", pyval.IntOf(2))); !errors.Is(err, telstate.ErrImmutableKey) {
				t.Errorf("different value: %v, want ErrImmutableKey", err)
			}
			if err := s.Flush(ctx); err != nil {
				t.Errorf("Flush: %v", err)
			}
			v, err := ts.Get(ctx, "ns_attr")
			if err != nil || !pyval.Equal(v, pyval.StrDict("a", pyval.IntOf(1))) {
				t.Errorf("stored %v, %v", v, err)
			}
		})
	}
}

// TestSinkErrors: the key's kind is checked at Start; unencodable values
// fail their own Write; Write outside Start..Stop fails.
func TestSinkErrors(t *testing.T) {
	ctx := context.Background()
	ts := telstate.New()
	if err := ts.Set(ctx, "attr", pyval.IntOf(1)); err != nil {
		t.Fatal(err)
	}
	mustAdd(t, ts, "sensor", pyval.IntOf(1), 1)
	for _, c := range []struct {
		key  string
		opts []SinkOption
	}{{"attr", nil}, {"sensor", []SinkOption{Immutable()}}} {
		s, err := NewSink(ts, c.key, c.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(ctx); !errors.Is(err, telstate.ErrImmutableKey) {
			t.Errorf("Start on %s: %v, want ErrImmutableKey", c.key, err)
		}
	}
	for _, imm := range []bool{false, true} {
		var opts []SinkOption
		if imm {
			opts = append(opts, Immutable())
		}
		s, err := NewSink(ts, "fresh", opts...)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Write(ctx, pyval.IntOf(1)); !errors.Is(err, ErrNotStarted) {
			t.Errorf("immutable %v: Write before Start: %v", imm, err)
		}
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.Write(ctx, pyval.IntOf(1)); !errors.Is(err, ErrSinkStopped) {
			t.Errorf("immutable %v: Write after Stop: %v, want ErrSinkStopped", imm, err)
		}
	}
	s := startSink(t, ts, "k")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Write(cancelled, pyval.IntOf(1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Write with a cancelled context: %v", err)
	}
	if err := s.Write(ctx, pyval.Str("\xff")); !errors.Is(err, telstate.ErrEncode) {
		t.Errorf("unencodable value: %v, want ErrEncode", err)
	}
	if _, err := NewSink(ts, ""); err == nil {
		t.Error("empty key accepted")
	}
	if _, err := NewSink(nil, "k"); err == nil {
		t.Error("nil state accepted")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSinkRedisRestart: batches failing while redis-server restarts are
// retried; every value written before and after is stored once, and the
// exchange's run succeeds.
func TestSinkRedisRestart(t *testing.T) {
	ctx := context.Background()
	srv := testenv.Redis(t, testenv.WithAOF())
	b, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ts := telstate.New(telstate.WithBackend(b))
	s := startSink(t, ts, "k")
	for i := range 100 {
		if i == 50 {
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			srv.Restart(t)
		}
		if err := s.Write(ctx, pyval.IntOf(int64(i))); err != nil {
			t.Fatalf("Write %d: %v", i, err)
		}
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var got []pyval.Value
	for _, smp := range samples(t, ts, "k") {
		got = append(got, smp.Value)
	}
	sameValues(t, "stored", got, ints(0, 100))
}

// TestSinkNoRetry: with RetryWrites(0) a lost connection fails the sink.
func TestSinkNoRetry(t *testing.T) {
	ctx := context.Background()
	srv := testenv.Redis(t)
	b, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ts := telstate.New(telstate.WithBackend(b))
	s := startSink(t, ts, "k", RetryWrites(0))
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, pyval.IntOf(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); !errors.Is(err, telstate.ErrConnection) {
		t.Errorf("Flush with the server gone: %v, want ErrConnection", err)
	}
}

// TestSinkRetry: batches failing with a connection error are retried
// until they succeed; with RetryWrites(0), or for other errors, the sink
// fails at once.
func TestSinkRetry(t *testing.T) {
	ctx := context.Background()
	lost := fmt.Errorf("redis add_mutables: %w", telstate.ErrConnection)
	boom := errors.New("boom")
	for _, c := range []struct {
		name    string
		fail    error
		opts    []SinkOption
		wantErr error
	}{
		{"connection lost, retried", lost, nil, nil},
		{"connection lost, no retry", lost, []SinkOption{RetryWrites(0)}, telstate.ErrConnection},
		{"other error", boom, nil, boom},
	} {
		t.Run(c.name, func(t *testing.T) {
			gb := newGated(false)
			gb.fail, gb.failN = c.fail, 3
			ts := telstate.New(telstate.WithBackend(gb))
			s := startSink(t, ts, "k", c.opts...)
			for i := range 5 {
				if err := s.Write(ctx, pyval.IntOf(int64(i))); err != nil {
					break
				}
			}
			err := s.Flush(ctx)
			if c.wantErr == nil {
				if err != nil {
					t.Fatalf("Flush: %v", err)
				}
				var got []pyval.Value
				for _, smp := range samples(t, ts, "k") {
					got = append(got, smp.Value)
				}
				sameValues(t, "stored", got, ints(0, 5))
				return
			}
			if !errors.Is(err, c.wantErr) {
				t.Errorf("Flush: %v, want %v", err, c.wantErr)
			}
			gb.mu.Lock()
			defer gb.mu.Unlock()
			if gb.failN != 2 {
				t.Errorf("%d attempts, want 1", 3-gb.failN)
			}
		})
	}
}
