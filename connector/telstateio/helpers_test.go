package telstateio

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/telstate"
	"github.com/sdpkit/sdpkit/telstate/redis"
)

// patience bounds every wait for something that must happen; it only
// guards against hangs and never decides a result.
const patience = 30 * time.Second

// store is one backend kind the tests run against.
type store struct {
	name string
	open func(t testing.TB) *telstate.TelescopeState
}

// stores returns the memory backend and a real redis-server (started per
// call of open).
func stores() []store {
	return []store{
		{"memory", func(testing.TB) *telstate.TelescopeState { return telstate.New() }},
		{"redis", func(t testing.TB) *telstate.TelescopeState {
			srv := testenv.Redis(t)
			b, err := redis.Open(context.Background(), srv.URL())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			return telstate.New(telstate.WithBackend(b))
		}},
	}
}

// running is a SensorSource whose Run is in progress, emitting into a
// channel.
type running struct {
	out    chan pyval.Value
	cancel context.CancelFunc
	done   chan error
}

// runSource starts src and runs it on another goroutine, every emitted
// value going to out (unbuffered beyond a generous capacity).
func runSource(t *testing.T, src *SensorSource) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := src.Start(ctx); err != nil {
		cancel()
		t.Fatalf("Start: %v", err)
	}
	r := &running{out: make(chan pyval.Value, 1<<16), cancel: cancel, done: make(chan error, 1)}
	go func() {
		r.done <- src.Run(ctx, func(ctx context.Context, v pyval.Value) error {
			select {
			case r.out <- v:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// next returns the next n emitted values.
func (r *running) next(t *testing.T, n int) []pyval.Value {
	t.Helper()
	var got []pyval.Value
	timer := time.NewTimer(patience)
	defer timer.Stop()
	for len(got) < n {
		select {
		case v := <-r.out:
			got = append(got, v)
		case err := <-r.done:
			r.done <- err
			// Run may have returned right after its last emit.
			for len(got) < n && len(r.out) > 0 {
				got = append(got, <-r.out)
			}
			if len(got) == n {
				break
			}
			t.Fatalf("source ended (%v) after %d of %d values: %s", err, len(got), n, reprs(got))
		case <-timer.C:
			t.Fatalf("only %d of %d values emitted: %s", len(got), n, reprs(got))
		}
	}
	return got
}

// stop cancels Run and returns its result and whatever was emitted but
// not yet read.
func (r *running) stop(t *testing.T) (error, []pyval.Value) {
	t.Helper()
	r.cancel()
	var err error
	select {
	case err = <-r.done:
		r.done <- err
	case <-time.After(patience):
		t.Fatal("Run did not return after its context was cancelled")
	}
	var rest []pyval.Value
	for {
		select {
		case v := <-r.out:
			rest = append(rest, v)
		default:
			return err, rest
		}
	}
}

func reprs(vs []pyval.Value) string {
	s := "["
	for i, v := range vs {
		if i > 0 {
			s += ", "
		}
		s += pyval.Repr(v)
	}
	return s + "]"
}

func ints(from, to int) []pyval.Value {
	var vs []pyval.Value
	for i := from; i < to; i++ {
		vs = append(vs, pyval.IntOf(int64(i)))
	}
	return vs
}

func strs(ss ...string) []pyval.Value {
	var vs []pyval.Value
	for _, s := range ss {
		vs = append(vs, pyval.Str(s))
	}
	return vs
}

func sameValues(t *testing.T, what string, got, want []pyval.Value) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values %.400s, want %d %.400s", what, len(got), reprs(got), len(want), reprs(want))
	}
	for i := range want {
		if !pyval.Equal(got[i], want[i]) || pyval.Repr(got[i]) != pyval.Repr(want[i]) {
			t.Fatalf("%s: value %d is %s, want %s", what, i, pyval.Repr(got[i]), pyval.Repr(want[i]))
		}
	}
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func mustAdd(t *testing.T, ts *telstate.TelescopeState, key string, v pyval.Value, at float64) {
	t.Helper()
	if err := ts.Add(context.Background(), key, v, telstate.At(at)); err != nil {
		t.Fatal(err)
	}
}

func isCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func nan() float64 { return math.NaN() }
