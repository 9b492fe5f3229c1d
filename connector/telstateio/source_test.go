package telstateio

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
	"github.com/sdpkit/sdpkit/telstate/backend"
	"github.com/sdpkit/sdpkit/telstate/memory"
	"github.com/sdpkit/sdpkit/telstate/redis"
)

// TestSourceStartingPoint: by default only samples newer than the newest
// present at Start are emitted (including a later sample at that same
// newest time); FromStart and Since replay from the beginning or a time.
func TestSourceStartingPoint(t *testing.T) {
	cases := []struct {
		name string
		opts []SourceOption
		want []pyval.Value // after the initial samples, "late" and "new" are added
	}{
		{"default", nil, strs("late", "new")},
		{"from start", []SourceOption{FromStart()}, strs("s1", "s2", "s3a", "s3b", "late", "new")},
		{"since 2", []SourceOption{Since(2)}, strs("s2", "s3a", "s3b", "late", "new")},
		{"since between", []SourceOption{Since(2.5)}, strs("s3a", "s3b", "late", "new")},
		{"since after", []SourceOption{Since(100)}, nil},
	}
	for _, st := range stores() {
		t.Run(st.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					ts := st.open(t)
					for _, s := range []struct {
						v  string
						at float64
					}{{"s1", 1}, {"s2", 2}, {"s3b", 3}, {"s3a", 3}} {
						mustAdd(t, ts, "k", pyval.Str(s.v), s.at)
					}
					src, err := NewSensorSource(ts, "k", c.opts...)
					if err != nil {
						t.Fatal(err)
					}
					r := runSource(t, src)
					// "late" shares the newest time present at Start: it is
					// new, and must not be lost.
					mustAdd(t, ts, "k", pyval.Str("late"), 3)
					mustAdd(t, ts, "k", pyval.Str("new"), 4)
					// A marker, so that we know when everything before it
					// was emitted.
					mustAdd(t, ts, "k", pyval.Str("end"), 200)
					got := r.next(t, len(c.want)+1)
					sameValues(t, "emitted", got, append(slices.Clone(c.want), pyval.Str("end")))
					if err, rest := r.stop(t); err != nil || len(rest) > 0 {
						t.Errorf("stop: %v, extra values %s", err, reprs(rest))
					}
				})
			}
		})
	}
}

// TestSourceSameTimestamp: samples sharing a timestamp are each emitted
// once, whatever their encoded order relative to those already emitted;
// re-adding an identical sample emits nothing; a sample older than the
// newest emitted one is skipped.
func TestSourceSameTimestamp(t *testing.T) {
	for _, st := range stores() {
		t.Run(st.name, func(t *testing.T) {
			ts := st.open(t)
			src, err := NewSensorSource(ts, "k", EmitTimestamps())
			if err != nil {
				t.Fatal(err)
			}
			r := runSource(t, src)
			pair := func(at float64, v string) pyval.Value { return pyval.Tuple{pyval.Float(at), pyval.Str(v)} }

			mustAdd(t, ts, "k", pyval.Str("b"), 5)
			sameValues(t, "first", r.next(t, 1), []pyval.Value{pair(5, "b")})
			// "a" sorts before the emitted "b" at the same time.
			mustAdd(t, ts, "k", pyval.Str("a"), 5)
			sameValues(t, "earlier value, same time", r.next(t, 1), []pyval.Value{pair(5, "a")})
			mustAdd(t, ts, "k", pyval.Str("b"), 5) // identical: stored once
			mustAdd(t, ts, "k", pyval.Str("c"), 5)
			sameValues(t, "later value, same time", r.next(t, 1), []pyval.Value{pair(5, "c")})
			mustAdd(t, ts, "k", pyval.Str("old"), 4)
			mustAdd(t, ts, "k", pyval.Str("x"), 6)
			sameValues(t, "newer", r.next(t, 1), []pyval.Value{pair(6, "x")})
			if err, rest := r.stop(t); err != nil || len(rest) > 0 {
				t.Errorf("stop: %v, extra values %s", err, reprs(rest))
			}
		})
	}
}

// TestSourceConcurrentSameTimestamp: writers racing the source add many
// samples at one timestamp, in random order; each is emitted exactly once.
func TestSourceConcurrentSameTimestamp(t *testing.T) {
	const n, writers = 300, 3
	for _, st := range stores() {
		t.Run(st.name, func(t *testing.T) {
			ts := st.open(t)
			src, err := NewSensorSource(ts, "k")
			if err != nil {
				t.Fatal(err)
			}
			r := runSource(t, src)
			order := rand.Perm(n)
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for w := range writers {
				wg.Go(func() {
					for i := w; i < n; i += writers {
						if err := ts.Add(context.Background(), "k", pyval.IntOf(int64(order[i])), telstate.At(7)); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			mustAdd(t, ts, "k", pyval.Str("end"), 8)
			got := r.next(t, n+1)
			if !pyval.Equal(got[n], pyval.Str("end")) {
				t.Fatalf("last value %s, want 'end'", pyval.Repr(got[n]))
			}
			seen := make([]bool, n)
			for _, v := range got[:n] {
				i, err := pyval.AsInt64(v)
				if err != nil || i < 0 || i >= n || seen[i] {
					t.Fatalf("unexpected or repeated value %s", pyval.Repr(v))
				}
				seen[i] = true
			}
			if err, rest := r.stop(t); err != nil || len(rest) > 0 {
				t.Errorf("stop: %v, extra values %s", err, reprs(rest))
			}
		})
	}
}

// TestSourceKeyKinds: an immutable key yields its value once (set before
// or after Start) and ends the source; an indexed key is refused.
func TestSourceKeyKinds(t *testing.T) {
	ctx := context.Background()
	for _, st := range stores() {
		t.Run(st.name, func(t *testing.T) {
			for _, before := range []bool{true, false} {
				ts := st.open(t)
				if before {
					if err := ts.Set(ctx, "attr", pyval.Str("v")); err != nil {
						t.Fatal(err)
					}
				}
				src, err := NewSensorSource(ts, "attr")
				if err != nil {
					t.Fatal(err)
				}
				r := runSource(t, src)
				if !before {
					if err := ts.Set(ctx, "attr", pyval.Str("v")); err != nil {
						t.Fatal(err)
					}
				}
				sameValues(t, "immutable", r.next(t, 1), strs("v"))
				if err := <-r.done; err != nil {
					t.Errorf("Run after the immutable value: %v", err)
				}
				r.done <- nil
			}

			ts := st.open(t)
			if err := ts.SetIndexed(ctx, "idx", pyval.Str("a"), pyval.IntOf(1)); err != nil {
				t.Fatal(err)
			}
			src, err := NewSensorSource(ts, "idx")
			if err != nil {
				t.Fatal(err)
			}
			if err := src.Start(ctx); !errors.Is(err, telstate.ErrImmutableKey) {
				t.Errorf("Start on an indexed key: %v, want ErrImmutableKey", err)
			}
		})
	}
}

// TestSourceNamespace: in a view the source follows the key under the
// first prefix where it exists, switching to the namespace's own key once
// it appears.
func TestSourceNamespace(t *testing.T) {
	for _, st := range stores() {
		t.Run(st.name, func(t *testing.T) {
			ts := st.open(t)
			src, err := NewSensorSource(ts.View("ns"), "k")
			if err != nil {
				t.Fatal(err)
			}
			r := runSource(t, src)
			mustAdd(t, ts, "k", pyval.Str("root1"), 1)
			sameValues(t, "root key", r.next(t, 1), strs("root1"))
			mustAdd(t, ts, "ns_k", pyval.Str("ns2"), 2)
			sameValues(t, "namespaced key", r.next(t, 1), strs("ns2"))
			mustAdd(t, ts, "k", pyval.Str("root3"), 3) // shadowed now
			mustAdd(t, ts, "ns_k", pyval.Str("ns4"), 4)
			sameValues(t, "namespaced key again", r.next(t, 1), strs("ns4"))
			if err, rest := r.stop(t); err != nil || len(rest) > 0 {
				t.Errorf("stop: %v, extra values %s", err, reprs(rest))
			}
		})
	}
}

// TestSourceEnds: Run returns nil when its context is cancelled, while
// waiting and while blocked in emit, and Run before Start fails.
func TestSourceEnds(t *testing.T) {
	for _, st := range stores() {
		t.Run(st.name, func(t *testing.T) {
			ts := st.open(t)
			src, err := NewSensorSource(ts, "k")
			if err != nil {
				t.Fatal(err)
			}
			if err := src.Run(context.Background(), nil); !errors.Is(err, ErrNotStarted) {
				t.Errorf("Run before Start: %v", err)
			}

			r := runSource(t, src) // idle: nothing to emit
			if err, _ := r.stop(t); err != nil {
				t.Errorf("Run cancelled while idle: %v", err)
			}

			// Blocked in emit: emit reports the cancellation, and Run
			// returns it (the exchange treats it as a clean stop).
			ctx, cancel := context.WithCancel(context.Background())
			if err := src.Start(ctx); err != nil {
				t.Fatal(err)
			}
			entered := make(chan struct{})
			done := make(chan error, 1)
			go func() {
				done <- src.Run(ctx, func(ctx context.Context, v pyval.Value) error {
					close(entered)
					<-ctx.Done()
					return ctx.Err()
				})
			}()
			mustAdd(t, ts, "k", pyval.IntOf(1), 1)
			<-entered
			cancel()
			if err := <-done; err != nil && !isCtxErr(err) {
				t.Errorf("Run cancelled in emit: %v", err)
			}
			if err := src.Stop(context.Background()); err != nil {
				t.Errorf("Stop: %v", err)
			}
		})
	}
}

func TestNewSensorSourceErrors(t *testing.T) {
	ts := telstate.New()
	for _, c := range []struct {
		name string
		ts   *telstate.TelescopeState
		key  string
		opts []SourceOption
	}{
		{"nil state", nil, "k", nil},
		{"empty key", ts, "", nil},
		{"NaN since", ts, "k", []SourceOption{Since(nan())}},
	} {
		if _, err := NewSensorSource(c.ts, c.key, c.opts...); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// TestSourceRedisRestart: the source carries on across a redis-server
// restart (with AOF persistence): samples added while its monitor was
// reconnecting are read back by the catch-up after resubscribing, and
// later ones arrive as usual, none twice.
func TestSourceRedisRestart(t *testing.T) {
	srv := testenv.Redis(t, testenv.WithAOF())
	b, err := redis.Open(context.Background(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ts := telstate.New(telstate.WithBackend(b))
	src, err := NewSensorSource(ts, "k")
	if err != nil {
		t.Fatal(err)
	}
	r := runSource(t, src)
	mustAdd(t, ts, "k", pyval.IntOf(1), 1)
	sameValues(t, "before the restart", r.next(t, 1), ints(1, 2))
	srv.Restart(t)
	for i := 2; i < 6; i++ {
		mustAdd(t, ts, "k", pyval.IntOf(int64(i)), float64(i))
	}
	sameValues(t, "after the restart", r.next(t, 4), ints(2, 6))
	if err, rest := r.stop(t); err != nil || len(rest) > 0 {
		t.Errorf("stop: %v, extra values %s", err, reprs(rest))
	}
}

// flakyBackend fails the next failN GetRange calls with a connection error.
type flakyBackend struct {
	backend.Backend
	mu    sync.Mutex
	failN int
}

func (b *flakyBackend) GetRange(ctx context.Context, key []byte, start, end float64, prev, incl bool) ([]backend.Sample, error) {
	b.mu.Lock()
	fail := b.failN > 0
	if fail {
		b.failN--
	}
	b.mu.Unlock()
	if fail {
		return nil, fmt.Errorf("get_range: %w", telstate.ErrConnection)
	}
	return b.Backend.GetRange(ctx, key, start, end, prev, incl)
}

// TestSourceRetry: catch-up reads failing with a connection error are
// retried and nothing is lost; with RetryConnection(0) Run fails.
func TestSourceRetry(t *testing.T) {
	fb := &flakyBackend{Backend: memory.New()}
	ts := telstate.New(telstate.WithBackend(fb))
	src, err := NewSensorSource(ts, "k")
	if err != nil {
		t.Fatal(err)
	}
	r := runSource(t, src)
	mustAdd(t, ts, "k", pyval.IntOf(0), 1)
	sameValues(t, "first", r.next(t, 1), ints(0, 1))
	fb.mu.Lock()
	fb.failN = 4
	fb.mu.Unlock()
	for i := 1; i < 5; i++ {
		mustAdd(t, ts, "k", pyval.IntOf(int64(i)), float64(1+i))
	}
	sameValues(t, "after failed reads", r.next(t, 4), ints(1, 5))
	if err, rest := r.stop(t); err != nil || len(rest) > 0 {
		t.Errorf("stop: %v, extra values %s", err, reprs(rest))
	}

	src, err = NewSensorSource(ts, "k", RetryConnection(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	fb.mu.Lock()
	fb.failN = 1
	fb.mu.Unlock()
	err = src.Run(context.Background(), func(context.Context, pyval.Value) error { return nil })
	if !errors.Is(err, telstate.ErrConnection) {
		t.Errorf("Run without retries: %v, want ErrConnection", err)
	}
}
